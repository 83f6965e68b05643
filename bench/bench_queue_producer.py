"""Generated RabbitMQ queue producer vs raw aio-pika, with the same guarantees, side by side in one run.

The guide example is generated into a temp dir; both candidates publish the guide's OrderCreated
event (its sample payload as JSON) to the order.created exchange and its quorum queue, declared once
per round by the generated topology (delivery limit, dead-letter exchange; not timed):

- raw        aio-pika on a channel with publisher confirms: the model's JSON in persistent messages with a
             uuid4 message id,
             `mandatory=True`, a window of WINDOW publishes awaiting their confirm (a semaphore over
             tasks, each awaiting `exchange.publish`)
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

    async def raw(prefix: str) -> tuple[float, float]:
        topology = planned.prefixed(prefix)
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await channel.get_exchange(topology.exchange, ensure=False)
            slots = asyncio.Semaphore(window)

            async def one() -> None:
                try:
                    message = aio_pika.Message(
                        event.model_dump_json(by_alias=True).encode(),
                        message_id=str(uuid.uuid4()),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    )
                    await exchange.publish(message, topology.routing_key, mandatory=True)
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

    candidates = {"raw": raw, "generated": generated}
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
    return {
        "messages": args.messages,
        "rounds": args.rounds,
        "confirm_window": window,
        "seconds": round(time.perf_counter() - began, 1),
        "machine": c.machine(),
        "msg_per_s": summary,
        "targets": {"generated / raw": {"value": ratio, "target": ">= 0.9", "met": ratio >= 0.9}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages per candidate per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_queue_producer.json)")
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
