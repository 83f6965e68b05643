"""The guide's stream link on a real Kafka, with the generated services as separate processes.

web -> user-service (REST) -> order-service (gRPC), whose CreateOrder publishes OrderCreated to the
`order-events` topic; two analytics-service processes in two consumer groups read it. Their handler (the
user's code) records every call in a file: the side effect the test counts. `kcat` reads the topic as an
independent client. Every topic and queue name gets a unique prefix; the topics and queues are deleted
afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import httpx
import pytest

from scaffold.generate import generate
from scaffold.plan.engine import build_plan
from scaffold.spec.load import load_spec
from tests.brokers import AMQP_URL, KAFKA_BOOTSTRAP, broker_address, delete_topics, kafka_env, missing
from tests.generation import SPECS
from tests.processes import Service, free_port, replace_function
from tests.test_e2e_queues import CREATE_ORDER as QUEUE_CREATE_ORDER
from tests.test_e2e_queues import PLACE_ORDER, deliveries, kill_midway, start, wait_for

ORDERS = 30
USERS = 3  # orders are spread over these user ids, the topic's key

# The user's code in analytics-service: record each call in ANALYTICS_LOG, and apply the event as a row of
# the `analyzed` table written through the inbox's transaction (its `seq` is the order rows were applied
# in). Optionally slow, and failing the first attempt of every ANALYTICS_FAIL_EVERY-th order.
ON_ORDER_EVENTS = '''
async def on_order_events(message: models.OrderCreated, context: MessageContext) -> None:
    """Record the call in ANALYTICS_LOG and the event in the `analyzed` table (once per message)."""
    import asyncio
    import os

    from sqlalchemy import text

    await asyncio.sleep(float(os.environ.get("ANALYTICS_DELAY_S", "0")))
    with open(os.environ["ANALYTICS_LOG"], "a", encoding="utf-8") as out:
        out.write(f"{context.message_id} {message.order_id} {context.correlation_id} {context.traceparent}\\n")
    fail_every = int(os.environ.get("ANALYTICS_FAIL_EVERY", "0"))
    if fail_every and message.order_id % fail_every == 0 and context.attempt == 1:
        raise RuntimeError(f"order {message.order_id} fails its first attempt")
    await context.session.execute(
        text(
            "CREATE TABLE IF NOT EXISTS analyzed (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "message_id TEXT NOT NULL, order_id INTEGER NOT NULL, user_id INTEGER NOT NULL)"
        )
    )
    await context.session.execute(
        text("INSERT INTO analyzed (message_id, order_id, user_id) VALUES (:id, :order, :user)"),
        {"id": context.message_id, "order": message.order_id, "user": message.user_id},
    )
'''

# The user's code in order-service: the queue test's CreateOrder, publishing to the stream instead.
CREATE_ORDER = QUEUE_CREATE_ORDER.replace(
    "await ctx.messaging.publish_order_created(event)",
    'await ctx.messaging.publish_order_events(event, correlation_id=f"order-{order_id}")',
).replace("once RabbitMQ confirmed it", "once every in-sync replica has it")
assert "publish_order_events" in CREATE_ORDER


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's system generated once, with the users' handlers filled in."""
    root = tmp_path_factory.mktemp("streams") / "out"
    loaded = load_spec(SPECS["guide"])
    generate(loaded, build_plan(loaded), root)
    replace_function(root / "analytics-service/src/analytics_service/handlers.py", "on_order_events", ON_ORDER_EVENTS)
    replace_function(root / "order-service/src/order_service/handlers.py", "create_order", CREATE_ORDER)
    replace_function(root / "user-service/src/user_service/handlers.py", "place_order", PLACE_ORDER)
    return root


@pytest.fixture
def prefix() -> Iterator[str]:
    """A unique prefix for this test's topics, queues and groups; what carries it is deleted afterwards."""
    amqp, kafka = broker_address(AMQP_URL), broker_address(KAFKA_BOOTSTRAP)
    chosen = f"test-{uuid.uuid4().hex[:10]}."
    yield chosen
    delete_topics(kafka, chosen)
    asyncio.run(_delete_queues(amqp, chosen))


async def _delete_queues(url: str, prefix: str) -> None:
    """What order-service's queue publisher declared at start-up (it publishes nothing there here)."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = f"{prefix}order.created.notification-service"
        for name in [queue, f"{queue}.dlq", *(f"{queue}.retry.{d}ms" for d in (1000, 10000, 60000))]:
            await channel.queue_delete(name)
        for exchange in (f"{prefix}order.created", f"{prefix}order.created.dlx"):
            await channel.exchange_delete(exchange)


def kcat() -> str:
    path = shutil.which("kcat")
    if path is None:
        missing("`kcat` is not installed: scripts/brokers/up.sh installs it")
    assert path is not None
    return path


def test_orders_reach_both_analytics_consumer_groups_through_the_stream(
    system: Path, prefix: str, tmp_path: Path
) -> None:
    """30 orders placed over REST (user-service -> order-service over gRPC -> Kafka).

    Counts: 30 orders placed; each of the 2 consumer groups (two analytics-service processes) handled
    all 30, each exactly once (30 distinct message ids, 30 calls per group), with the correlation id
    order-service set and a traceparent; kcat reads exactly 30 records from the topic, keyed by user id,
    whose message ids are the 30 the handlers saw.
    """
    amqp, kafka = broker_address(AMQP_URL), broker_address(KAFKA_BOOTSTRAP)
    logs = {group: tmp_path / f"{group}.log" for group in ("analytics-service", "analytics-replay")}
    analytics = [
        Service(
            system,
            "analytics-service",
            {
                "ANALYTICS_SERVICE_HTTP_PORT": str(free_port()),
                "ANALYTICS_SERVICE_KAFKA__CONSUMER_GROUP": prefix + group,
                "ANALYTICS_LOG": str(log),
                "ANALYTICS_SERVICE_STORE__DATABASE_URL": f"sqlite:///{tmp_path / (group + '.sqlite3')}",
                **kafka_env("analytics-service", kafka, prefix),
            },
        )
        for group, log in logs.items()
    ]
    order_http, order_grpc, user_http = free_port(), free_port(), free_port()
    order = Service(
        system,
        "order-service",
        {
            "ORDER_SERVICE_HTTP_PORT": str(order_http),
            "ORDER_SERVICE_GRPC_PORT": str(order_grpc),
            "ORDER_SERVICE_AMQP__URL": amqp,
            "ORDER_SERVICE_AMQP__NAME_PREFIX": prefix,
            "ORDER_SERVICE_STORE__DATABASE_URL": f"sqlite:///{tmp_path / 'order-service.sqlite3'}",
            **kafka_env("order-service", kafka, prefix),
        },
    )
    user = Service(
        system,
        "user-service",
        {"USER_SERVICE_HTTP_PORT": str(user_http), "USER_SERVICE_ORDER_SERVICE_TARGET": f"127.0.0.1:{order_grpc}"},
    )
    services = [*analytics, order, user]
    try:
        for service in services:
            start(service)
        placed: dict[int, int] = {}  # order id -> user id
        for i in range(ORDERS):
            user_id = 100 + i % USERS
            body = {"user_id": user_id, "items": [{"product_id": 456, "quantity": 1 + i % 4}]}
            response = httpx.post(f"http://127.0.0.1:{user_http}/orders", json=body, timeout=30)
            assert response.status_code == 200, response.text
            placed[response.json()["order_id"]] = user_id
        assert len(placed) == ORDERS
        for group, log in logs.items():

            def handled(log: Path = log) -> bool:
                return len(deliveries(log)) >= ORDERS

            wait_for(handled, 120, f"{ORDERS} events in {group}")
        time.sleep(3)  # a duplicate delivery, had there been one, would be recorded by now
        seen: dict[str, set[str]] = {}
        for group, log in logs.items():
            recorded = deliveries(log)
            assert len(recorded) == ORDERS, f"{group}: {len(recorded)} calls for {ORDERS} events"
            assert sorted(int(d[1]) for d in recorded) == sorted(placed)
            assert all(d[2] == f"order-{d[1]}" and d[3].startswith("00-") for d in recorded)
            seen[group] = {d[0] for d in recorded}
            assert len(seen[group]) == ORDERS
        assert seen["analytics-service"] == seen["analytics-replay"]

        # An independent client reads the topic: every record, its key and its message-id header.
        read = subprocess.run(
            [
                kcat(),
                "-b",
                kafka,
                "-C",
                "-t",
                f"{prefix}order-events",
                "-o",
                "beginning",
                "-e",
                "-q",
                "-f",
                "%k\\t%h\\t%s\\n",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        records = [line.split("\t") for line in read.stdout.splitlines() if line]
        assert len(records) == ORDERS
        ids = set()
        for key, headers, value in records:
            event = json.loads(value)
            assert key == str(placed[event["order_id"]])
            meta = dict(item.split("=", 1) for item in headers.split(","))
            assert meta["message-type"] == "order.created"
            ids.add(meta["message-id"])
        assert ids == seen["analytics-service"]
    finally:
        for service in reversed(services):
            service.stop()


def analytics(system: Path, prefix: str, folder: Path, **env: str) -> Service:
    """One analytics-service process in its own consumer group, with its log and database in ``folder``."""
    return Service(
        system,
        "analytics-service",
        {
            "ANALYTICS_SERVICE_HTTP_PORT": str(free_port()),
            "ANALYTICS_SERVICE_KAFKA__CONSUMER_GROUP": prefix + "analytics-service",
            "ANALYTICS_LOG": str(folder / "analytics.log"),
            "ANALYTICS_SERVICE_STORE__DATABASE_URL": f"sqlite:///{folder / 'analytics.sqlite3'}",
            **kafka_env("analytics-service", broker_address(KAFKA_BOOTSTRAP), prefix),
            **env,
        },
    )


def analyzed(folder: Path) -> list[tuple[str, int, int]]:
    """The events analytics-service applied (message id, order id, user id), in the order it applied them."""
    database = folder / "analytics.sqlite3"
    if not database.exists():
        return []
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        try:
            query = "SELECT message_id, order_id, user_id FROM analyzed ORDER BY seq"
            return [(str(m), int(o), int(u)) for m, o, u in connection.execute(query)]
        except sqlite3.OperationalError:  # nothing applied yet: no table
            return []


def publish_events(system: Path, prefix: str, count: int) -> list[str]:
    """Publish ``count`` OrderCreated (order ids 0..count-1, keyed by user id 100 + id % USERS) with
    order-service's generated stream producer; the message ids, in publishing order."""
    result = subprocess.run(
        [sys.executable, "-c", PUBLISH_EVENTS, str(count), str(USERS)],
        env={
            **os.environ,
            "PYTHONPATH": str(system / "order-service" / "src"),
            # Its RabbitMQ link declares its queue (under the prefix, deleted afterwards) and publishes nothing.
            "ORDER_SERVICE_AMQP__URL": broker_address(AMQP_URL),
            "ORDER_SERVICE_AMQP__NAME_PREFIX": prefix,
            **kafka_env("order-service", broker_address(KAFKA_BOOTSTRAP), prefix),
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


PUBLISH_EVENTS = """
import asyncio, json, sys
from order_service.generated import models
from order_service.generated.context import Context

async def main(count: int, users: int) -> None:
    ctx = Context()
    await ctx.messaging.start(ctx)
    try:
        events = [models.OrderCreated(order_id=i, user_id=100 + i % users, total=1.0) for i in range(count)]
        sent = await ctx.messaging.publish_order_events_many(events)
    finally:
        await ctx.aclose()
    print(json.dumps([e.message_id for e in sent]))

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


def test_a_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    system: Path, prefix: str, tmp_path: Path
) -> None:
    """SIGKILL analytics-service while it works through 1,000 waiting events, then start it again.

    Counts: 1,000 events published; after the restart 1,000 applied (rows committed with the inbox's
    record), one per order and per published message id: 0 lost, 0 applied twice. Handler calls repeated
    for events in flight at the kill (processed, offset not committed) are reported.
    """
    total = 1000
    sent = publish_events(system, prefix, total)
    assert len(set(sent)) == total
    consumer = analytics(system, prefix, tmp_path, ANALYTICS_DELAY_S="0.02")
    log = tmp_path / "analytics.log"
    try:
        before = kill_midway(consumer, lambda: len(deliveries(log)), lambda: len(analyzed(tmp_path)), total)
        time.sleep(3)  # an event applied twice, had there been one, would be committed by now
    finally:
        consumer.stop()
    rows = analyzed(tmp_path)
    calls = deliveries(log)
    repeated = len(calls) - len({d[0] for d in calls})
    print(
        f"stream kill test: {total} published, {before} handler calls before SIGKILL, {len(rows)} applied in all, "
        f"0 lost, 0 applied twice, {repeated} handler calls repeated for in-flight events"
    )
    assert len(rows) == total
    assert sorted(order for _, order, _ in rows) == list(range(total))
    assert {message_id for message_id, _, _ in rows} == set(sent)


def test_order_per_key_is_kept_while_records_are_retried(system: Path, prefix: str, tmp_path: Path) -> None:
    """300 events over 3 keys (user ids); the handler fails the first attempt of every 7th order, which
    goes through the retry topic while the later events of its key wait.

    Counts: 300 published, 43 first attempts failed and retried, 300 applied once each; per key, the 100
    events were applied in the order they were published (ascending order ids)."""
    total, fail_every = 300, 7
    publish_events(system, prefix, total)
    link = "ANALYTICS_SERVICE_LINKS__ORDER_SERVICE_TO_ANALYTICS_SERVICE_ORDER_CREATED__RETRY_DELAYS_MS"
    consumer = analytics(system, prefix, tmp_path, ANALYTICS_FAIL_EVERY=str(fail_every), **{link: "[200, 400]"})
    try:
        start(consumer)
        wait_for(lambda: len(analyzed(tmp_path)) >= total, 300, f"all {total} events applied")
        time.sleep(2)
    finally:
        consumer.stop()
    rows = analyzed(tmp_path)
    failed_first = sum(1 for i in range(total) if i % fail_every == 0)
    calls = deliveries(tmp_path / "analytics.log")
    print(
        f"order test: {total} published, {failed_first} first attempts failed, {len(calls)} handler calls, "
        f"{len(rows)} applied"
    )
    assert len(rows) == total and len({m for m, _, _ in rows}) == total
    assert len(calls) == total + failed_first
    for user in {u for _, _, u in rows}:
        orders = [o for _, o, u in rows if u == user]
        assert orders == sorted(orders), f"key {user}: applied out of order"
        assert len(orders) == total // USERS
