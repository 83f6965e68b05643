"""Generated RabbitMQ consumer with the inbox (SQLite and PostgreSQL) vs a raw aio-pika consumer, side
by side in one run.

The guide example is generated into a temp dir. Before each candidate (not timed) a fresh quorum queue
is declared by notification-service's generated topology (delivery limit, dead-letter and retry queues)
and filled with MESSAGES OrderCreated in their envelopes (message id, correlation id, traceparent).
Each candidate then consumes them all with the link's planned prefetch; every one decodes the message
into its model (the same work), and:

- raw              aio-pika `queue.consume(no_ack=False)`, manual `message.ack()` after the work
- generated        the runtime's `AmqpConsumer` as the generated messaging starts it (envelope, delivery,
                   handler timeout, ack after the handler; retry and dead-letter paths unused), no inbox
- inbox-sqlite     the same, each delivery run through `Inbox.process(consumer, message_id, handler)`: the
                   handler gets an AsyncSession, and the message id is recorded in its transaction, on
                   the default SQLite store (runtime/database.py: WAL, synchronous=NORMAL), a fresh file
                   per round
- inbox-postgres   the same on PostgreSQL (SCAFFOLD_TEST_POSTGRES_URL; a database of its own for the
                   run, dropped afterwards); left out when the variable is not set

Timed from the first delivery's start to the last one's handler; candidates alternate within each round
(the order rotates). Target: inbox-sqlite and inbox-postgres >= 0.8x raw msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import _brokers as b
import _common as c


class Counter:
    """Counts handled messages: the clock starts at the first, stops at the ``n``-th."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.handled = 0
        self.started: tuple[float, float] | None = None
        self.took: tuple[float, float] = (0.0, 0.0)  # wall, CPU seconds
        self.done = asyncio.Event()

    def start(self) -> None:
        if self.started is None:
            self.started = (time.perf_counter(), time.process_time())

    def handled_one(self) -> None:
        self.handled += 1
        if self.handled == self.n and self.started is not None:
            self.took = (time.perf_counter() - self.started[0], time.process_time() - self.started[1])
            self.done.set()


async def run(args: argparse.Namespace, work: Path, url: str, postgres: str | None) -> dict[str, Any]:
    import aio_pika

    guide = c.generate(c.GUIDE, work / "guide")
    c.add_src(guide / "notification-service")
    from notification_service.generated import messaging, models
    from notification_service.generated.runtime.amqp import AmqpBroker, AmqpConsumer, AmqpPublisher
    from notification_service.generated.runtime.database import Database
    from notification_service.generated.runtime.envelope import Delivery, Envelope
    from notification_service.generated.runtime.inbox import Inbox
    from notification_service.generated.settings import Settings

    planned = messaging.ORDER_SERVICE_TO_NOTIFICATION_SERVICE_ORDER_CREATED
    settings = Settings()
    link = settings.links.order_service_to_notification_service_order_created
    batch_max = settings.store.inbox_batch_max
    prefetch, handler_timeout_ms = args.prefetch or link.prefetch, link.handler_timeout_ms
    event = models.OrderCreated(order_id=1, user_id=123, total=9.5)
    body = event.model_dump_json(by_alias=True).encode()
    n = args.messages

    async def fill(topology: Any) -> None:
        broker = AmqpBroker(url)
        publisher = AmqpPublisher(
            broker, [topology], confirm_window=256, publish_timeout_ms=10_000, publish_deadline_ms=60_000
        )
        try:
            await publisher.publish_many(Envelope.new("order.created", body) for _ in range(n))
        finally:
            await publisher.aclose()
            await broker.aclose()

    def work_on(delivery_body: bytes) -> None:
        models.OrderCreated.model_validate_json(delivery_body)  # the handler's work, the same everywhere

    async def raw(topology: Any, _inbox: Inbox | None) -> tuple[float, float]:
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=prefetch)
            queue = await channel.get_queue(topology.queue, ensure=False)
            count = Counter(n)

            async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                count.start()
                work_on(message.body)
                count.handled_one()
                await message.ack()

            tag = await queue.consume(on_message, no_ack=False)
            await asyncio.wait_for(count.done.wait(), timeout=args.timeout)
            await queue.cancel(tag)
            return count.took

    async def generated(topology: Any, inbox: Inbox | None) -> tuple[float, float]:
        broker = AmqpBroker(url)
        count = Counter(n)
        consumer_name = f"{topology.queue}/notification-service"

        async def noop(_session: Any) -> None:
            return None

        async def handle(delivery: Delivery) -> None:
            count.start()
            work_on(delivery.envelope.body)
            if inbox is not None:
                await inbox.process(consumer_name, delivery.envelope.message_id, noop)
            count.handled_one()

        consumer = AmqpConsumer(broker, topology, handle, prefetch=prefetch, handler_timeout_ms=handler_timeout_ms)
        await consumer.start()
        try:
            await asyncio.wait_for(count.done.wait(), timeout=args.timeout)
        finally:
            await consumer.stop()
            await broker.aclose()
        return count.took

    batch_sizes: dict[str, list[float]] = {}  # deliveries per inbox transaction, per round

    @contextlib.asynccontextmanager
    async def store(name: str, r: int) -> Any:
        if name == "inbox-sqlite":
            database = Database(b.sqlite_url(work, f"inbox-{r}"))
        elif name == "inbox-postgres":
            assert postgres is not None
            database = Database(postgres)
        else:
            yield None
            return
        await database.ready()  # tables made before the clock starts
        inbox = Inbox(database, retention_s=604800, batch_max=batch_max)
        try:
            yield inbox
        finally:
            await database.aclose()
        sizes = batch_sizes.setdefault(name, [])
        sizes.append(round(inbox.batched / inbox.batches, 2) if inbox.batches else 0.0)

    candidates = {"raw": raw, "generated": generated, "inbox-sqlite": generated}
    if postgres is not None:
        candidates["inbox-postgres"] = generated
    names = [name for name in candidates if name == "raw" or not args.only or name in args.only]
    rates = b.Rates(names)
    began = time.perf_counter()
    for r in range(args.rounds):
        for name in c.round_order(names, r):
            topology = planned.prefixed(b.prefix())
            await fill(topology)
            try:
                async with store(name, r) as inbox:
                    wall_s, cpu_s = await candidates[name](topology, inbox)
                rates.add(name, n, wall_s, cpu_s)
            finally:
                await b.drop_queue_topology(url, topology)
    summary = rates.summary("raw")
    targets = {
        f"{name} / raw": {
            "value": summary[name]["ratio_of_medians"],
            "target": ">= 0.8",
            "met": summary[name]["ratio_of_medians"] >= 0.8,
        }
        for name in names
        if name.startswith("inbox")
    }
    return b.figures(args, began, summary, targets, prefetch=prefetch, batch_max=batch_max, batch_sizes=batch_sizes)


def main() -> None:
    parser = b.parser(__doc__, "bench_consumer_inbox", messages=3000, rounds=5)
    parser.add_argument("--timeout", type=float, default=300, help="seconds a candidate may take at most")
    parser.add_argument("--only", nargs="*", help="run these candidates (and raw, the baseline) only")
    parser.add_argument("--prefetch", type=int, help="every candidate's prefetch instead of the link's planned one")
    args = parser.parse_args()
    url = b.required(b.AMQP_ENV)
    data = b.run_with_postgres("bench-consumer-", lambda work, postgres: run(args, work, url, postgres))
    title = (
        f"RabbitMQ consume, quorum queue, manual ack, prefetch {data['prefetch']}, {args.messages} x OrderCreated "
        f"per candidate per round, {args.rounds} rounds interleaved"
    )
    b.report("bench_consumer_inbox", title, {**data, "json_path": args.json})
    print(f"deliveries per inbox transaction (batch_max {data['batch_max']}), per round: {data['batch_sizes']}")


if __name__ == "__main__":
    main()
