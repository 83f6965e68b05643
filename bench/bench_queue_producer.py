"""Generated RabbitMQ queue producer vs raw aio-pika, with the same guarantees, side by side in one run.

The guide example is generated into a temp dir; both candidates publish the guide's OrderCreated
event (its sample payload as JSON) to the order.created exchange and its quorum queue, declared once
per round by the generated topology (delivery limit, dead-letter exchange; not timed):

- raw        aio-pika on a channel with publisher confirms: the model's JSON in persistent messages with a
             uuid4 message id,
             `mandatory=True`, a window of WINDOW publishes awaiting their confirm (a semaphore over
             tasks, each awaiting `exchange.publish`)
- raw-envelope (with --decompose) the same raw publisher with the generated envelope's metadata: a
             correlation id and the `type` property, and a `traceparent` header: what the metadata
             itself costs (the client's encoding, the broker's work), apart from the runtime
- generated  order-service's `ctx.messaging.publish_order_created_many(models)`: the same confirms,
             persistence, mandatory flag and window (the plan's confirm_window), plus what it adds:
             the model's JSON, the envelope (message id, correlation id, W3C traceparent), retries
             while disconnected

Candidates alternate within each round (the order rotates); each round uses fresh queues. The broker
is SCAFFOLD_TEST_AMQP_URL (`scripts/brokers/up.sh` starts one). Target: generated >= 0.9x raw msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import _brokers as b
import _common as c


async def run(args: argparse.Namespace, work: Path, url: str, bootstrap: str) -> dict[str, Any]:
    import aio_pika

    guide = c.generate(c.GUIDE, work / "guide")
    c.add_src(guide / "order-service")
    from order_service.generated import messaging, models
    from order_service.generated import settings as settings_module
    from order_service.generated.context import Context
    from order_service.generated.runtime.amqp import declare_topology
    from order_service.generated.settings import Settings

    planned = messaging.ORDER_SERVICE_TO_NOTIFICATION_SERVICE_ORDER_CREATED
    window = Settings().publishing.order_created.confirm_window
    event = models.OrderCreated(order_id=1, user_id=123, total=9.5)
    topic_prefix = b.prefix()

    def plain() -> aio_pika.Message:
        return aio_pika.Message(
            event.model_dump_json(by_alias=True).encode(),
            message_id=str(uuid.uuid4()),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )

    def with_envelope() -> aio_pika.Message:
        message_id = str(uuid.uuid4())
        return aio_pika.Message(
            event.model_dump_json(by_alias=True).encode(),
            message_id=message_id,
            correlation_id=message_id,
            type="order.created",
            headers={"traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"},
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )

    async def raw(prefix: str, make: Any = plain) -> tuple[float, float]:
        topology = planned.prefixed(prefix)
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await channel.get_exchange(topology.exchange, ensure=False)
            slots = asyncio.Semaphore(window)

            async def one() -> None:
                try:
                    await exchange.publish(make(), topology.routing_key, mandatory=True)
                finally:
                    slots.release()

            started, cpu = time.perf_counter(), time.process_time()
            tasks = []
            for _ in range(args.messages):
                await slots.acquire()
                tasks.append(asyncio.ensure_future(one()))
            await asyncio.gather(*tasks)
            return time.perf_counter() - started, time.process_time() - cpu

    async def generated(prefix: str) -> tuple[float, float]:
        # order-service also publishes to Kafka: its start creates the run's topics (once, not timed here).
        settings = b.settings(
            settings_module, amqp_url=url, kafka_bootstrap=bootstrap, amqp_prefix=prefix, topic_prefix=topic_prefix
        )
        ctx = Context(settings)
        await ctx.messaging.start(ctx)
        try:
            started, cpu = time.perf_counter(), time.process_time()
            await ctx.messaging.publish_order_created_many(event for _ in range(args.messages))
            return time.perf_counter() - started, time.process_time() - cpu
        finally:
            await ctx.aclose()

    async def fresh(prefix: str) -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            await declare_topology(await connection.channel(), planned.prefixed(prefix))

    async def drop(prefix: str) -> None:
        await b.drop_queue_topology(url, planned.prefixed(prefix))

    async def raw_envelope(prefix: str) -> tuple[float, float]:
        return await raw(prefix, with_envelope)

    candidates: dict[str, Any] = {"raw": raw, "generated": generated}
    if args.decompose:
        candidates["raw-envelope"] = raw_envelope
    rates = b.Rates(list(candidates))
    began = time.perf_counter()
    try:
        for r in range(args.rounds):
            for name in c.round_order(list(candidates), r):
                prefix = b.prefix()
                await fresh(prefix)
                try:
                    wall_s, cpu_s = await candidates[name](prefix)
                    rates.add(name, args.messages, wall_s, cpu_s)
                finally:
                    await drop(prefix)
    finally:
        b.delete_topics(bootstrap, topic_prefix)
    summary = rates.summary("raw")
    ratio = summary["generated"]["ratio_of_medians"]
    targets = {"generated / raw": {"value": ratio, "target": ">= 0.9", "met": ratio >= 0.9}}
    if "raw-envelope" in summary:
        same = round(summary["generated"]["median"] / summary["raw-envelope"]["median"], 3)
        targets["generated / raw-envelope (the same metadata)"] = {"value": same, "target": "none", "met": True}
    return b.figures(args, began, summary, targets, confirm_window=window)


def main() -> None:
    parser = b.parser(__doc__, "bench_queue_producer", messages=10_000, rounds=3)
    parser.add_argument("--decompose", action="store_true", help="add raw-envelope: raw with the envelope's metadata")
    args = parser.parse_args()
    url = b.required(b.AMQP_ENV)
    bootstrap = b.required(b.KAFKA_ENV)
    data = b.run_in_tempdir("bench-queue-", lambda work: run(args, work, url, bootstrap))
    title = (
        f"RabbitMQ publish with confirms, quorum queue, {args.messages} x OrderCreated per candidate per round, "
        f"{args.rounds} rounds interleaved, window {data['confirm_window']}"
    )
    b.report("bench_queue_producer", title, {**data, "json_path": args.json})


if __name__ == "__main__":
    main()
