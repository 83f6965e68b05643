"""The guide's queue link on a real RabbitMQ, with the generated services as separate processes.

order-service publishes OrderCreated, notification-service consumes it (its handler, the user's code,
records every delivery in a file: the side effect the tests count). The spec is the guide's, with the
queue link's retry tiers and delivery limit shortened through the spec's own `resilience` overrides so
that a poison message reaches the limit in seconds. Each test names the counts it checks; delivery is
at least once, so duplicates after a crash are counted and reported, never a loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import httpx
import pytest
import yaml

from scaffold.generate import generate
from scaffold.plan.engine import build_plan
from scaffold.spec.load import load_spec
from tests.brokers import AMQP_URL, KAFKA_BOOTSTRAP, broker_address, delete_topics, kafka_env, missing
from tests.generation import SPECS
from tests.processes import Service, free_port, replace_function, wait_ready

ROOT = Path(__file__).resolve().parent.parent
QUEUE_LINK = "order-service-to-notification-service-order-created"
DELIVERY_LIMIT = 3
RETRY_DELAYS_MS = [200, 400]
PREFETCH = 10  # the plan's default for the link

# The user's code in notification-service: record each call in a file, and apply the notification as a
# row written through the inbox's transaction; fail on the poison order; maybe slow.
ON_ORDER_CREATED = '''
async def on_order_created(message: models.OrderCreated, context: MessageContext) -> None:
    """Record the call in NOTIFY_LOG (one line per call) and the notification in the `notified` table
    (committed with the inbox's record of the message: once per message); the poison order always fails."""
    import asyncio
    import os

    from sqlalchemy import text

    log = os.environ["NOTIFY_LOG"]
    if message.order_id == int(os.environ.get("NOTIFY_POISON_ORDER", "-1")):
        with open(log + ".poison", "a", encoding="utf-8") as attempts:
            attempts.write(f"{context.attempt}\\n")
        raise RuntimeError("this order can never be notified")
    await asyncio.sleep(float(os.environ.get("NOTIFY_DELAY_S", "0")))
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"{context.message_id} {message.order_id} {context.correlation_id} {context.traceparent}\\n")
    await context.session.execute(text(APPLIED_TABLE))
    await context.session.execute(
        text("INSERT INTO notified (message_id, order_id) VALUES (:id, :order)"),
        {"id": context.message_id, "order": message.order_id},
    )


APPLIED_TABLE = "CREATE TABLE IF NOT EXISTS notified (message_id TEXT NOT NULL, order_id INTEGER NOT NULL)"
'''

# The user's code in order-service: store the order (here: number it) and publish OrderCreated.
CREATE_ORDER = '''
_ORDER_IDS = iter(range(1, 1_000_000))


async def create_order(request: models.CreateOrderRequest, ctx: Context) -> models.Order:
    """Number the order and publish OrderCreated (returns once RabbitMQ confirmed it)."""
    order_id = next(_ORDER_IDS)
    total = float(sum(item.quantity for item in request.items))
    event = models.OrderCreated(order_id=order_id, user_id=request.user_id, total=total)
    await ctx.messaging.publish_order_created(event)
    return models.Order(order_id=order_id, user_id=request.user_id, status="pending", total=total)
'''

PLACE_ORDER = '''
async def place_order(request: models.CreateOrderRequest, ctx: Context) -> models.Order:
    """Place an order through order-service (gRPC)."""
    return await ctx.clients.order_service.create_order(request)
'''

# A batch publisher: order-service's generated producer in its own process, printing the message ids.
PUBLISH_BATCH = """
import asyncio, json, sys
from order_service.generated import models
from order_service.generated.context import Context

async def main(first: int, count: int) -> None:
    ctx = Context()
    await ctx.messaging.start(ctx)
    try:
        events = (models.OrderCreated(order_id=i, user_id=7, total=1.0) for i in range(first, first + count))
        sent = await ctx.messaging.publish_order_created_many(events)
    finally:
        await ctx.aclose()
    print(json.dumps([e.message_id for e in sent]))

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's system generated once, with the users' handlers filled in."""
    folder = tmp_path_factory.mktemp("queues")
    spec = yaml.safe_load(SPECS["guide"].read_text(encoding="utf-8"))
    for interaction in spec["interactions"]:
        if (interaction["from"], interaction["to"], interaction.get("message")) == (
            "order-service",
            "notification-service",
            "OrderCreated",
        ):
            interaction["resilience"] = {"delivery_limit": DELIVERY_LIMIT, "retry_delays_ms": RETRY_DELAYS_MS}
    spec_path = folder / "guide.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    loaded = load_spec(spec_path)
    root = folder / "out"
    generate(loaded, build_plan(loaded), root)
    replace_function(
        root / "notification-service/src/notification_service/handlers.py", "on_order_created", ON_ORDER_CREATED
    )
    replace_function(root / "order-service/src/order_service/handlers.py", "create_order", CREATE_ORDER)
    replace_function(root / "user-service/src/user_service/handlers.py", "place_order", PLACE_ORDER)
    return root


@dataclass
class Names:
    """One test's exchanges and queues: the planned names behind a unique prefix."""

    prefix: str

    @property
    def exchange(self) -> str:
        return f"{self.prefix}order.created"

    @property
    def queue(self) -> str:
        return f"{self.prefix}order.created.notification-service"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dlq"

    def all_queues(self) -> list[str]:
        return [self.queue, self.dead_letter_queue, *(f"{self.queue}.retry.{d}ms" for d in RETRY_DELAYS_MS)]


@pytest.fixture
def names(system: Path) -> Iterator[Names]:
    url = broker_address(AMQP_URL)
    chosen = Names(f"test-{uuid.uuid4().hex[:10]}.")
    yield chosen
    asyncio.run(_delete(url, chosen))
    delete_topics(broker_address(KAFKA_BOOTSTRAP), chosen.prefix)


async def _delete(url: str, names: Names) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for queue in names.all_queues():
            await channel.queue_delete(queue)
        for exchange in (names.exchange, f"{names.prefix}order.created.dlx"):
            await channel.exchange_delete(exchange)


def notification(system: Path, url: str, names: Names, log: Path, **env: str) -> Service:
    """notification-service, recording calls in ``log`` and keeping its database beside it (`applied`)."""
    return Service(
        system,
        "notification-service",
        {
            "NOTIFICATION_SERVICE_HTTP_PORT": str(free_port()),
            "NOTIFICATION_SERVICE_AMQP__URL": url,
            "NOTIFICATION_SERVICE_AMQP__NAME_PREFIX": names.prefix,
            "NOTIFICATION_SERVICE_STORE__DATABASE_URL": f"sqlite:///{log.with_suffix('.sqlite3')}",
            "NOTIFY_LOG": str(log),
            **env,
        },
    )


def applied(log: Path, table: str = "notified") -> list[tuple[str, int]]:
    """The notifications the handler committed (message id, order id), from the service's database."""
    database = log.with_suffix(".sqlite3")
    if not database.exists():
        return []
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        try:
            return [(str(m), int(o)) for m, o in connection.execute(f"SELECT message_id, order_id FROM {table}")]
        except sqlite3.OperationalError:  # no notification committed yet: no table
            return []


def start(service: Service) -> None:
    service.start()
    port = service.env[f"{service.name.replace('-', '_').upper()}_HTTP_PORT"]
    wait_ready(f"http://127.0.0.1:{port}/readyz", service)


def publish_batch(system: Path, url: str, names: Names, first: int, count: int, **env: str) -> list[str]:
    """Publish ``count`` orders from ``first`` with order-service's producer; the confirmed message ids."""
    result = subprocess.run(
        [sys.executable, "-c", PUBLISH_BATCH, str(first), str(count)],
        env={
            **os.environ,
            "PYTHONPATH": str(system / "order-service" / "src"),
            "ORDER_SERVICE_AMQP__URL": url,
            "ORDER_SERVICE_AMQP__NAME_PREFIX": names.prefix,
            # order-service streams to analytics-service too: its Kafka links on the single-node test broker.
            **kafka_env("order-service", broker_address(KAFKA_BOOTSTRAP), names.prefix),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def deliveries(log: Path) -> list[list[str]]:
    """Each recorded delivery: message id, order id, correlation id, traceparent."""
    if not log.exists():
        return []
    return [line.split(" ") for line in log.read_text(encoding="utf-8").splitlines() if line.count(" ") == 3]


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    until = time.monotonic() + seconds
    while not check():
        if time.monotonic() > until:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.1)


def kill_midway(service: Service, calls: Callable[[], int], applied: Callable[[], int], total: int) -> int:
    """Start ``service``, SIGKILL it after 150 handler calls, start it again and wait until ``total``
    messages are applied; return the handler calls made before the kill."""
    start(service)
    wait_for(lambda: calls() >= 150, 120, "150 handler calls before the kill")
    service.signal(signal.SIGKILL)
    assert service.process is not None
    service.process.wait(timeout=30)
    before = calls()
    assert before < total and applied() < total, "the kill came after the batch: nothing was tested"
    start(service)
    wait_for(lambda: applied() >= total, 300, f"all {total} messages applied")
    return before


def queue_state(url: str, queue: str) -> tuple[int, int]:
    """(messages ready, consumers) of ``queue``, from a passive declare."""

    async def declared() -> tuple[int, int]:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            result = (await channel.declare_queue(queue, passive=True)).declaration_result
            return int(result.message_count or 0), int(result.consumer_count or 0)

    return asyncio.run(declared())


def take_all(url: str, queue: str, expect: int, idle_s: float = 5) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Consume ``queue`` until ``expect`` messages arrived or none came for ``idle_s``."""

    async def consume() -> list[aio_pika.abc.AbstractIncomingMessage]:
        connection = await aio_pika.connect(url)
        taken: list[aio_pika.abc.AbstractIncomingMessage] = []
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=1000)
            declared = await channel.declare_queue(queue, passive=True)
            async with declared.iterator(no_ack=True) as messages:
                while len(taken) < expect:
                    try:
                        taken.append(await asyncio.wait_for(messages.__anext__(), timeout=idle_s))
                    except TimeoutError:
                        break
        return taken

    return asyncio.run(consume())


def amqp_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"`{name}` is not installed: scripts/brokers/up.sh installs amqp-tools")
    assert path is not None
    return path


def test_orders_placed_over_rest_reach_notification_service_through_the_queue(
    system: Path, names: Names, tmp_path: Path
) -> None:
    """web -> user-service (REST) -> order-service (gRPC) -> RabbitMQ -> notification-service.

    Counts: 5 orders placed, 5 deliveries recorded, one per order and message id, correlation id and
    trace context present; then amqp-tools as an independent producer: 1 valid message handled, 1
    invalid one in the dead-letter queue (read back with amqp-get), 0 messages left in the work queue.
    """
    url = broker_address(AMQP_URL)
    log = tmp_path / "notified.log"
    consumer = notification(system, url, names, log)
    order_http, order_grpc, user_http = free_port(), free_port(), free_port()
    order = Service(
        system,
        "order-service",
        {
            "ORDER_SERVICE_HTTP_PORT": str(order_http),
            "ORDER_SERVICE_GRPC_PORT": str(order_grpc),
            "ORDER_SERVICE_AMQP__URL": url,
            "ORDER_SERVICE_AMQP__NAME_PREFIX": names.prefix,
            # order-service streams to analytics-service too: its Kafka links on the single-node test broker.
            **kafka_env("order-service", broker_address(KAFKA_BOOTSTRAP), names.prefix),
        },
    )
    user = Service(
        system,
        "user-service",
        {
            "USER_SERVICE_HTTP_PORT": str(user_http),
            "USER_SERVICE_ORDER_SERVICE_TARGET": f"127.0.0.1:{order_grpc}",
        },
    )
    try:
        for service in (consumer, order, user):
            start(service)
        placed = []
        for quantity in range(1, 6):
            body = {"user_id": 123, "items": [{"product_id": 456, "quantity": quantity}]}
            response = httpx.post(f"http://127.0.0.1:{user_http}/orders", json=body, timeout=30)
            assert response.status_code == 200, response.text
            placed.append(response.json()["order_id"])
        wait_for(lambda: len(deliveries(log)) >= 5, 60, "5 notifications")
        recorded = deliveries(log)
        assert sorted(int(d[1]) for d in recorded) == sorted(placed)
        assert len({d[0] for d in recorded}) == 5
        assert all(d[2] != "None" and d[3].startswith("00-") for d in recorded)

        # An independent client publishes to the same exchange, as a producer in another language would.
        cli_url = url.rstrip("/")  # amqp-tools read a trailing "/" as the vhost ""
        valid = json.dumps({"order_id": 900001, "user_id": 5, "total": 9.5})
        subprocess.run(
            [
                amqp_tool("amqp-publish"),
                "--url",
                cli_url,
                "-e",
                names.exchange,
                "-r",
                "order.created" if not names.prefix else f"{names.prefix}order.created",
                "-p",
                "-C",
                "application/json",
                "-b",
                valid,
            ],
            check=True,
            timeout=60,
        )
        subprocess.run(
            [
                amqp_tool("amqp-publish"),
                "--url",
                cli_url,
                "-e",
                names.exchange,
                "-r",
                f"{names.prefix}order.created",
                "-p",
                "-C",
                "application/json",
                "-b",
                "{not json",
            ],
            check=True,
            timeout=60,
        )
        wait_for(lambda: any(d[1] == "900001" for d in deliveries(log)), 60, "the amqp-publish message")
        wait_for(lambda: queue_state(url, names.dead_letter_queue)[0] == 1, 60, "the invalid message dead-lettered")
        dead = subprocess.run(
            [amqp_tool("amqp-get"), "--url", cli_url, "-q", names.dead_letter_queue],
            capture_output=True,
            timeout=60,
            check=True,
        )
        assert dead.stdout == b"{not json"
        assert queue_state(url, names.queue)[0] == 0
        assert len(deliveries(log)) == 6
    finally:
        for service in (user, order, consumer):
            service.stop()


def test_a_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    system: Path, names: Names, tmp_path: Path
) -> None:
    """SIGKILL notification-service while it works through 1,000 waiting messages, then start it again.

    Counts: 1,000 confirmed publishes; after the restart 1,000 notifications applied (rows committed with
    the inbox's record), one per order and per published message id: 0 lost, 0 applied twice. Handler
    calls repeated for messages that were in flight at the kill (not committed, or committed but not
    acknowledged) are reported, and at most the prefetch (10).
    """
    url = broker_address(AMQP_URL)
    log = tmp_path / "notified.log"
    total = 1000
    # Published before the consumer starts (the publisher declares the queue): a batch is waiting.
    sent = publish_batch(system, url, names, 0, total)
    assert len(set(sent)) == total
    consumer = notification(system, url, names, log, NOTIFY_DELAY_S="0.05")
    try:
        handled_before = kill_midway(consumer, lambda: len(deliveries(log)), lambda: len(applied(log)), total)
        wait_for(lambda: queue_state(url, names.queue)[0] == 0, 60, "an empty queue")
        time.sleep(2)  # a message applied twice, had there been one, would be committed by now
        consumer.stop()
        rows = applied(log)
        calls = deliveries(log)
        repeated = len(calls) - len({d[0] for d in calls})
        print(
            f"kill test: {total} sent, {handled_before} handler calls before SIGKILL, {len(rows)} applied in all, "
            f"0 lost, 0 applied twice, {repeated} handler calls repeated for in-flight messages"
        )
        assert len(rows) == total
        assert sorted(order for _, order in rows) == list(range(total))
        assert {message_id for message_id, _ in rows} == set(sent)
        assert repeated <= PREFETCH
    finally:
        consumer.stop()


def test_a_poison_message_is_dead_lettered_at_the_delivery_limit_while_the_others_flow(
    system: Path, names: Names, tmp_path: Path
) -> None:
    """One order always fails among 50.

    Counts: 49 orders handled once each; the poison one tried exactly DELIVERY_LIMIT (3) times (after
    retry tiers of 200 and 400 ms), then 1 message in the dead-letter queue with the reason
    `delivery-limit`, its message id intact; 0 left in the work queue.
    """
    url = broker_address(AMQP_URL)
    log = tmp_path / "notified.log"
    poison = 13
    consumer = notification(system, url, names, log, NOTIFY_POISON_ORDER=str(poison))
    try:
        start(consumer)
        sent = publish_batch(system, url, names, 0, 50)
        wait_for(lambda: len(deliveries(log)) >= 49, 120, "49 good orders")
        wait_for(lambda: queue_state(url, names.dead_letter_queue)[0] == 1, 120, "the poison message dead-lettered")
        recorded = deliveries(log)
        assert sorted(int(d[1]) for d in recorded) == [i for i in range(50) if i != poison]
        attempts = (tmp_path / "notified.log.poison").read_text(encoding="utf-8").split()
        assert attempts == [str(n) for n in range(1, DELIVERY_LIMIT + 1)]
        dead = take_all(url, names.dead_letter_queue, 1)
        assert len(dead) == 1 and dead[0].message_id == sent[poison]
        assert (dead[0].headers or {})["x-dead-letter-reason"] == "delivery-limit"
        assert json.loads(dead[0].body)["order_id"] == poison
        assert queue_state(url, names.queue)[0] == 0
    finally:
        consumer.stop()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads process memory from /proc")
def test_a_slow_consumer_leaves_the_backlog_in_the_broker(system: Path, names: Names, tmp_path: Path) -> None:
    """800 messages of 64 KiB (50 MiB) for a consumer that takes 200 ms each (10 at a time).

    Counts: while hundreds of messages wait in the broker, the consumer's resident memory grows by
    less than 20 MiB between its 20th and its 100th message (without a prefetch limit the broker
    would push the whole 50 MiB backlog at once), and the broker still holds at least 800 - 100 -
    prefetch messages ready.
    """
    url = broker_address(AMQP_URL)
    log = tmp_path / "notified.log"
    total, padding = 800, 64 * 1024
    consumer = notification(system, url, names, log, NOTIFY_DELAY_S="0.2")

    async def publish() -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            exchange = await channel.get_exchange(names.exchange)
            for order_id in range(total):
                body = json.dumps({"order_id": order_id, "user_id": 1, "total": 1.0}) + " " * padding
                message = aio_pika.Message(
                    body.encode(), message_id=str(uuid.uuid4()), content_type="application/json", type="order.created"
                )
                await exchange.publish(message, f"{names.prefix}order.created")

    try:
        # The exchange and queue exist once the service declared them; the backlog then builds up at once.
        start(consumer)
        consumer.signal(signal.SIGSTOP)
        asyncio.run(publish())
        consumer.signal(signal.SIGCONT)
        assert consumer.process is not None
        wait_for(lambda: len(deliveries(log)) >= 20, 120, "20 deliveries")
        early = _rss_kb(consumer.process.pid)
        wait_for(lambda: len(deliveries(log)) >= 100, 120, "100 deliveries")
        late = _rss_kb(consumer.process.pid)
        ready, consumers = queue_state(url, names.queue)
        handled = len(deliveries(log))
        print(f"slow consumer: RSS {early} kB -> {late} kB after {handled} of {total}; {ready} ready in the broker")
        assert consumers == 1
        assert ready >= total - handled - PREFETCH - 50  # a few more may be handled between the two reads
        assert late - early < 20 * 1024
    finally:
        consumer.stop()


@pytest.fixture
def own_rabbitmq(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A RabbitMQ node of this test's own, on its own ports (the shared one is never restarted), and a
    function that kills it with SIGKILL and starts it again on the same data."""
    if not Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists():
        missing("RabbitMQ is not installed: scripts/brokers/up.sh installs it")
    port = free_port()
    while port + 20000 > 65535 or not _port_free(port + 20000):  # the node's distribution port
        port = free_port()
    folder = tmp_path / "rabbitmq"
    env = {
        **os.environ,
        "RABBIT_CI_DIR": str(folder),
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_NODENAME": f"restart-{uuid.uuid4().hex[:8]}@localhost",
    }
    script = ROOT / "scripts" / "brokers" / "rabbitmq.sh"

    def run(command: str) -> None:
        result = subprocess.run([str(script), command], env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"rabbitmq.sh {command}: {result.stdout}\n{result.stderr}"

    def crash_and_restart() -> None:
        os.kill(int((folder / "rabbit.pid").read_text().strip()), signal.SIGKILL)
        run("start")

    run("start")
    try:
        yield f"amqp://guest:guest@127.0.0.1:{port}/", crash_and_restart
    finally:
        run("stop")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_broker_crash_during_a_10000_message_publish_loses_nothing(
    system: Path, own_rabbitmq: tuple[str, Callable[[], None]]
) -> None:
    """order-service's producer publishes 10,000 messages; the broker is SIGKILLed and restarted midway.

    Counts: the broker went down while the publisher was still running, with fewer than 10,000 stored;
    the publisher then finished with 10,000 confirmed message ids; every one of them is in the queue
    after the restart (0 lost); copies stored twice (a confirm lost with the connection, so the
    producer published again) are reported.
    """
    url, crash_and_restart = own_rabbitmq
    names = Names("restart.")
    total = 10_000
    publisher = subprocess.Popen(
        [sys.executable, "-c", PUBLISH_BATCH, "0", str(total)],
        env={
            **os.environ,
            "PYTHONPATH": str(system / "order-service" / "src"),
            "ORDER_SERVICE_AMQP__URL": url,
            "ORDER_SERVICE_AMQP__NAME_PREFIX": names.prefix,
            # order-service streams to analytics-service too: its Kafka links on the single-node test broker.
            **kafka_env("order-service", broker_address(KAFKA_BOOTSTRAP), names.prefix),
            # Long enough for a restart on a loaded machine (start-up alone takes 10-20 s there).
            "ORDER_SERVICE_PUBLISHING__ORDER_CREATED__PUBLISH_DEADLINE_MS": "600000",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def stored() -> int:
            try:
                return queue_state(url, names.queue)[0]
            except Exception:  # not declared yet
                return 0

        wait_for(lambda: stored() >= 1500 or publisher.poll() is not None, 300, "1,500 messages stored")
        at_crash = stored()
        assert publisher.poll() is None and at_crash < total, "the publish ended before the crash"
        crash_and_restart()
        out, err = publisher.communicate(timeout=900)
    finally:
        if publisher.poll() is None:
            publisher.kill()
    assert publisher.returncode == 0, err
    sent = json.loads(out.strip().splitlines()[-1])
    assert len(set(sent)) == total
    kept = take_all(url, names.queue, expect=2 * total, idle_s=10)
    ids = [message.message_id for message in kept]
    lost = set(sent) - set(ids)
    duplicates = len(ids) - len(set(ids))
    print(
        f"broker crash: {at_crash} stored at the crash, {total} confirmed, {len(lost)} lost, {duplicates} stored twice"
    )
    assert not lost
    assert set(ids) == set(sent)
