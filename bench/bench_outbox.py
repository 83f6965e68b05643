"""What the transactional outbox costs per message, against publishing directly, side by side in one
run (no target: the outbox buys "stored with the writes, or not at all").

The guide example is generated into a temp dir; order-service's runtime publishes the guide's
OrderCreated (its JSON, in the generated envelope) to a fresh quorum queue per candidate and round,
declared by the generated topology:

- direct-each      `AmqpPublisher.publish(envelope)`, one at a time: a handler that awaits its confirm
- direct-window    `AmqpPublisher.publish_many(envelopes)`: the plan's confirm window (256) in flight
- outbox-sqlite    one `Outbox.transaction()` per message with one `tx.add(...)` (as a handler that
                   stores its message with its writes), one after the other, while the `OutboxRelay`
                   (the plan's batch size, concurrency, lease) publishes through the same
                   `AmqpPublisher`; timed from the first transaction to the last confirm, on the
                   default SQLite store (runtime/database.py), a fresh file per round
- outbox-postgres  the same on PostgreSQL (SCAFFOLD_TEST_POSTGRES_URL, a database of its own for the
                   run, dropped afterwards); left out when the variable is not set

Reported: msg/s, µs per message (wall and client CPU), and for the outbox the part spent in the
transactions alone. Candidates alternate within each round (the order rotates).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from pathlib import Path
from typing import Any

import _brokers as b
import _common as c


async def run(args: argparse.Namespace, work: Path, url: str, postgres: str | None) -> dict[str, Any]:
    guide = c.generate(c.GUIDE, work / "guide")
    c.add_src(guide / "order-service")
    from order_service.generated import messaging, models
    from order_service.generated.runtime.amqp import AmqpBroker, AmqpPublisher
    from order_service.generated.runtime.database import Database
    from order_service.generated.runtime.envelope import Envelope
    from order_service.generated.runtime.outbox import Outbox, OutboxRecord, OutboxRelay
    from order_service.generated.settings import Settings

    planned = messaging.ORDER_SERVICE_TO_NOTIFICATION_SERVICE_ORDER_CREATED
    settings = Settings()
    publishing, store = settings.publishing.order_created, settings.store
    body = models.OrderCreated(order_id=1, user_id=123, total=9.5).model_dump_json(by_alias=True).encode()
    n = args.messages
    store_us: dict[str, list[float]] = {}

    def publisher_for(broker: AmqpBroker, topology: Any) -> AmqpPublisher:
        return AmqpPublisher(
            broker,
            [topology],
            confirm_window=publishing.confirm_window,
            publish_timeout_ms=publishing.publish_timeout_ms,
            publish_deadline_ms=publishing.publish_deadline_ms,
        )

    async def direct_each(publisher: AmqpPublisher, _url: str | None) -> None:
        for _ in range(n):
            await publisher.publish(Envelope.new("order.created", body))

    async def direct_window(publisher: AmqpPublisher, _url: str | None) -> None:
        await publisher.publish_many(Envelope.new("order.created", body) for _ in range(n))

    async def outbox(publisher: AmqpPublisher, database_url: str | None, name: str) -> None:
        assert database_url is not None
        database = Database(database_url)
        await database.ready()
        box = Outbox(database)

        async def publish(record: OutboxRecord) -> None:
            await publisher.publish(Envelope.from_headers(record.headers, record.body))

        relay = OutboxRelay(
            box,
            publish,
            batch_size=store.outbox_batch_size,
            concurrency=store.outbox_concurrency,
            poll_interval_s=store.outbox_poll_interval_ms / 1000,
            backoff_initial_s=store.outbox_backoff_initial_ms / 1000,
            backoff_max_s=store.outbox_backoff_max_ms / 1000,
            lease_s=store.outbox_lease_ms / 1000,
        )
        relay.start()
        try:
            started = time.perf_counter()
            for _ in range(n):
                envelope = Envelope.new("order.created", body)
                async with box.transaction() as tx:
                    tx.add(
                        "order.created", envelope.body, headers=envelope.to_headers(), message_id=envelope.message_id
                    )
            store_us.setdefault(name, []).append((time.perf_counter() - started) / n * 1e6)
            deadline = time.monotonic() + args.timeout
            while relay.published < n:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name}: {relay.published} of {n} published in {args.timeout} s")
                await asyncio.sleep(0.002)
        finally:
            await relay.aclose()
            await database.aclose()

    candidates: dict[str, Any] = {"direct-each": direct_each, "direct-window": direct_window}
    candidates["outbox-sqlite"] = lambda p, u: outbox(p, u, "outbox-sqlite")
    if postgres is not None:
        candidates["outbox-postgres"] = lambda p, u: outbox(p, u, "outbox-postgres")
    names = list(candidates)
    rates = b.Rates(names)
    began = time.perf_counter()
    for r in range(args.rounds):
        for name in c.round_order(names, r):
            databases = {"outbox-sqlite": b.sqlite_url(work, f"outbox-{r}"), "outbox-postgres": postgres}
            topology = planned.prefixed(b.prefix())
            broker = AmqpBroker(url)
            publisher = publisher_for(broker, topology)
            await publisher.start()  # the topology, declared before the clock starts
            if name == "outbox-postgres":
                await _empty_postgres_outbox(postgres)
            try:
                started, cpu = time.perf_counter(), time.process_time()
                await candidates[name](publisher, databases.get(name))
                rates.add(name, n, time.perf_counter() - started, time.process_time() - cpu)
            finally:
                await publisher.aclose()
                await broker.aclose()
                await b.drop_queue_topology(url, topology)
    summary = rates.summary("direct-window")
    for name, s in summary.items():
        s["us_per_msg"] = round(1e6 / s["median"], 1)
        if name in store_us:
            s["transaction_us_per_msg"] = round(statistics.median(store_us[name]), 1)
    targets = {
        f"{name} / direct-window": {"value": summary[name]["ratio_of_medians"], "target": "none", "met": True}
        for name in names
        if name.startswith("outbox")
    }
    return b.figures(args, began, summary, targets)


async def _empty_postgres_outbox(database_url: str | None) -> None:
    """The run's PostgreSQL database is shared by its rounds: start each with an empty outbox."""
    import psycopg
    from sqlalchemy.engine import make_url

    assert database_url is not None
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(plain, autocommit=True) as connection:
        with contextlib.suppress(psycopg.errors.UndefinedTable):
            await connection.execute("DELETE FROM scaffold_outbox")


def main() -> None:
    parser = b.parser(__doc__, "bench_outbox", messages=1000, rounds=3)
    parser.add_argument("--timeout", type=float, default=300, help="seconds the relay may take at most")
    args = parser.parse_args()
    url = b.required(b.AMQP_ENV)
    data = b.run_with_postgres("bench-outbox-", lambda work, postgres: run(args, work, url, postgres))
    title = (
        f"Outbox vs direct confirmed publish, RabbitMQ quorum queue, {args.messages} x OrderCreated per candidate "
        f"per round, {args.rounds} rounds interleaved"
    )
    b.report("bench_outbox", title, {**data, "json_path": args.json})
    for name, s in data["msg_per_s"].items():
        extra = f", of which transactions {s['transaction_us_per_msg']} us" if "transaction_us_per_msg" in s else ""
        print(f"{name}: {s['us_per_msg']} us per message{extra}")


if __name__ == "__main__":
    main()
