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
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import _common as c


async def run(args: argparse.Namespace, work: Path, url: str) -> dict[str, Any]:
    import aio_pika

    guide = c.generate(c.GUIDE, work / "guide")
    c.add_src(guide / "order-service")
    from order_service.generated import messaging, models
    from order_service.generated.context import Context
    from order_service.generated.runtime.amqp import declare_topology
    from order_service.generated.settings import AmqpSettings, Settings

    planned = messaging.ORDER_SERVICE_TO_NOTIFICATION_SERVICE_ORDER_CREATED
    window = Settings().publishing.order_created.confirm_window
    event = models.OrderCreated(order_id=1, user_id=123, total=9.5)

    async def raw(prefix: str) -> float:
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

            started = time.perf_counter()
            tasks = []
            for _ in range(args.messages):
                await slots.acquire()
                tasks.append(asyncio.ensure_future(one()))
            await asyncio.gather(*tasks)
            return args.messages / (time.perf_counter() - started)

    async def generated(prefix: str) -> float:
        settings = Settings(amqp=AmqpSettings(url=url, name_prefix=prefix))
        ctx = Context(settings)
        await ctx.messaging.start(ctx)
        try:
            started = time.perf_counter()
            await ctx.messaging.publish_order_created_many(event for _ in range(args.messages))
            return args.messages / (time.perf_counter() - started)
        finally:
            await ctx.aclose()

    async def fresh(prefix: str) -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            await declare_topology(await connection.channel(), planned.prefixed(prefix))

    async def drop(prefix: str) -> None:
        t = planned.prefixed(prefix)
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for queue in (t.queue, t.dead_letter_queue, *(t.retry_queue(d) for d in t.retry_delays_ms)):
                await channel.queue_delete(queue)
            for exchange in (t.exchange, t.dead_letter_exchange):
                await channel.exchange_delete(exchange)

    candidates = {"raw": raw, "generated": generated}
    rates: dict[str, list[float]] = {name: [] for name in candidates}
    began = time.perf_counter()
    for r in range(args.rounds):
        for name in c.round_order(list(candidates), r):
            prefix = f"bench-{uuid.uuid4().hex[:8]}."
            await fresh(prefix)
            try:
                rates[name].append(await candidates[name](prefix))
            finally:
                await drop(prefix)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    ratio = medians["generated"] / medians["raw"]
    return {
        "messages": args.messages,
        "rounds": args.rounds,
        "confirm_window": window,
        "seconds": round(time.perf_counter() - began, 1),
        "msg_per_s": {
            name: {"median": round(medians[name]), "min": round(min(v)), "max": round(max(v))}
            for name, v in rates.items()
        },
        "targets": {"generated / raw": {"value": round(ratio, 2), "target": ">= 0.9", "met": ratio >= 0.9}},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages per candidate per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_queue_producer.json)")
    args = parser.parse_args()
    url = os.environ.get("SCAFFOLD_TEST_AMQP_URL")
    if not url:
        sys.exit("SCAFFOLD_TEST_AMQP_URL is not set: start RabbitMQ with scripts/brokers/up.sh, then `. .brokers/env`")
    work = c.tempdir("bench-queue-")
    try:
        data = asyncio.run(run(args, work, url))
    finally:
        c.remove(work)
    print(
        f"RabbitMQ publish with confirms, quorum queue, {args.messages} x OrderCreated per candidate per round, "
        f"{args.rounds} rounds interleaved, window {data['confirm_window']} ({data['seconds']} s)"
    )
    rows = [[name, s["median"], s["min"], s["max"]] for name, s in data["msg_per_s"].items()]
    print(c.table(["candidate", "msg/s median", "min", "max"], rows))
    for name, t in data["targets"].items():
        print(f"{name}: {t['value']}x (target {t['target']}: {'met' if t['met'] else 'NOT met'})")
    path = c.write_json("bench_queue_producer", data, args.json)
    print(f"\nfigures: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
