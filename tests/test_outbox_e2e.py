"""The transactional outbox of the guide's order-service on a real RabbitMQ and Kafka, as separate processes.

order-service's CreateOrder (the user's code) stores the order in its own table and, in the same
transaction, its two events through the outbox: OrderCreated for notification-service's queue and for
analytics-service's stream. The service is killed after the orders were stored and before anything was
published; started again, its relay publishes every stored event. Independent clients read what arrived:
aio-pika on the queue, `kcat` on the topic.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from scaffold.generate import generate
from scaffold.plan.engine import build_plan
from scaffold.spec.load import load_spec
from tests.brokers import AMQP_URL, KAFKA_BOOTSTRAP, broker_address, kafka_env
from tests.generation import SPECS
from tests.processes import Service, free_port, replace_function, wait_ready, without_brokers
from tests.test_e2e_queues import PLACE_ORDER, start, take_all, wait_for
from tests.test_streams_e2e import kcat
from tests.test_streams_e2e import prefix as prefix  # the fixture: unique names, deleted afterwards

ORDERS = 20

# The user's code in order-service: the order and its events in one transaction.
CREATE_ORDER = '''
async def create_order(request: models.CreateOrderRequest, ctx: Context) -> models.Order:
    """Store the order and, in the same transaction, OrderCreated for the queue and for the stream."""
    from sqlalchemy import text

    total = float(sum(item.quantity for item in request.items))
    async with ctx.outbox.transaction() as tx:
        await tx.session.execute(
            text("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL)")
        )
        stored = await tx.session.execute(
            text("INSERT INTO orders (user_id) VALUES (:user) RETURNING id"), {"user": request.user_id}
        )
        order_id = int(stored.scalar_one())
        event = models.OrderCreated(order_id=order_id, user_id=request.user_id, total=total)
        await ctx.messaging.publish_order_created(event, tx=tx)
        await ctx.messaging.publish_order_events(event, tx=tx, correlation_id=f"order-{order_id}")
    return models.Order(order_id=order_id, user_id=request.user_id, status="pending", total=total)
'''


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's system generated once, with order-service's and user-service's handlers filled in."""
    root = tmp_path_factory.mktemp("outbox") / "out"
    loaded = load_spec(SPECS["guide"])
    generate(loaded, build_plan(loaded), root)
    replace_function(root / "order-service/src/order_service/handlers.py", "create_order", CREATE_ORDER)
    replace_function(root / "user-service/src/user_service/handlers.py", "place_order", PLACE_ORDER)
    return root


def outbox(database: Path) -> list[tuple[str, str]]:
    """What order-service's outbox holds (message id, destination)."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        return [(str(m), str(d)) for m, d in connection.execute("SELECT message_id, destination FROM scaffold_outbox")]


def orders(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        return int(connection.execute("SELECT count(*) FROM orders").fetchone()[0])


def test_events_stored_before_a_crash_are_published_after_the_restart(
    system: Path, prefix: str, tmp_path: Path
) -> None:
    """20 orders placed while order-service cannot reach either broker, then SIGKILL, then a restart.

    Counts: 20 orders placed (20 x 200), 20 order rows and 40 events in the outbox (20 per destination),
    0 published before the kill; after the restart 0 left in the outbox, 20 messages in
    notification-service's queue and 20 records on the topic (kcat), each order once, with exactly the
    message ids that were stored.
    """
    amqp, kafka = broker_address(AMQP_URL), broker_address(KAFKA_BOOTSTRAP)
    database = tmp_path / "order-service.sqlite3"
    order_http, order_grpc, user_http = free_port(), free_port(), free_port()
    common = {
        "ORDER_SERVICE_HTTP_PORT": str(order_http),
        "ORDER_SERVICE_GRPC_PORT": str(order_grpc),
        "ORDER_SERVICE_STORE__DATABASE_URL": f"sqlite:///{database}",
        # Polled often: the relay of the restarted process finds what the killed one stored.
        "ORDER_SERVICE_STORE__OUTBOX_POLL_INTERVAL_MS": "200",
    }
    offline = Service(system, "order-service", {**common, **without_brokers("order-service")})
    user = Service(
        system,
        "user-service",
        {"USER_SERVICE_HTTP_PORT": str(user_http), "USER_SERVICE_ORDER_SERVICE_TARGET": f"127.0.0.1:{order_grpc}"},
    )
    online = Service(
        system,
        "order-service",
        {
            **common,
            "ORDER_SERVICE_AMQP__URL": amqp,
            "ORDER_SERVICE_AMQP__NAME_PREFIX": prefix,
            **kafka_env("order-service", kafka, prefix),
        },
    )
    try:
        offline.start()
        wait_ready(f"http://127.0.0.1:{order_http}/healthz", offline)
        start(user)
        for i in range(ORDERS):
            body = {"user_id": 100 + i % 3, "items": [{"product_id": 456, "quantity": 1 + i % 4}]}
            response = httpx.post(f"http://127.0.0.1:{user_http}/orders", json=body, timeout=30)
            assert response.status_code == 200, response.text
        stored = outbox(database)
        assert orders(database) == ORDERS
        assert sorted(d for _, d in stored) == sorted(["queue:order.created", "stream:order-events"] * ORDERS)
        offline.signal(signal.SIGKILL)
        assert offline.process is not None
        offline.process.wait(timeout=30)
        assert len(outbox(database)) == 2 * ORDERS, "published before the kill: nothing was tested"

        start(online)
        wait_for(lambda: not outbox(database), 120, "the outbox to be drained")
    finally:
        for service in (user, offline, online):
            service.stop()

    queued = take_all(amqp, f"{prefix}order.created.notification-service", ORDERS + 1)
    assert sorted(m.message_id or "" for m in queued) == sorted(m for m, d in stored if d.startswith("queue:"))
    read = subprocess.run(
        [kcat(), "-b", kafka, "-C", "-t", f"{prefix}order-events", "-o", "beginning", "-e", "-q", "-f", "%h\\n"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    headers = [dict(item.split("=", 1) for item in line.split(",")) for line in read.stdout.splitlines() if line]
    assert sorted(h["message-id"] for h in headers) == sorted(m for m, d in stored if d.startswith("stream:"))
    print(
        f"outbox crash test: {ORDERS} orders stored with {len(stored)} events, 0 published before SIGKILL, "
        f"{len(queued)} in the queue and {len(headers)} on the topic after the restart, 0 left in the outbox"
    )
