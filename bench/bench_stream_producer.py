"""Generated Kafka stream producer vs raw confluent-kafka (and, once, raw aiokafka), with the same
guarantees, side by side in one run.

The guide example is generated into a temp dir; every candidate sends the guide's OrderCreated events
(JSON, the same models, keyed by `user_id` as the guide's `order-events` channel is) to a topic of its
own with the channel's 6 partitions:

- raw          confluent-kafka `Producer` with the generated producer's settings (acks=all,
               enable.idempotence, 5 requests in flight, linger.ms 5, the murmur2_random partitioner):
               `produce()` in a loop, `poll(0)` after each, then `flush()`; the same five headers as
               the generated envelope (message id, type, content type, correlation id, traceparent)
- generated    order-service's `ctx.messaging.publish_order_events_many(models)` (the runtime's
               `StreamProducer.publish_many`): the model's JSON, the envelope and its headers, the key,
               and a delivery report for every message before it returns
- aiokafka     (round 1 only, when aiokafka is installed: `pip install aiokafka`) `AIOKafkaProducer`
               with acks=all, idempotence, linger 5 ms: `send()` every message, then await all

Candidates alternate within each round (the order rotates); topics are made once per run behind a
prefix of its own and deleted at the end. The broker is SCAFFOLD_TEST_KAFKA_BOOTSTRAP
(`scripts/brokers/up.sh`); order-service's start also needs SCAFFOLD_TEST_AMQP_URL (it publishes to
RabbitMQ too). Target: generated >= 0.9x raw confluent-kafka msg/s.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import _brokers as b
import _common as c

PARTITIONS = 6  # the guide's order-events channel


async def run(args: argparse.Namespace, work: Path, amqp_url: str, bootstrap: str) -> dict[str, Any]:
    from confluent_kafka import Producer

    guide = c.generate(c.GUIDE, work / "guide")
    c.add_src(guide / "order-service")
    from order_service.generated import models
    from order_service.generated import settings as settings_module
    from order_service.generated.context import Context

    prefix = b.prefix()
    settings = b.settings(
        settings_module, amqp_url=amqp_url, kafka_bootstrap=bootstrap, amqp_prefix=prefix, topic_prefix=prefix
    )
    ctx = Context(settings)
    await ctx.messaging.start(ctx)  # creates prefix + "order-events"
    raw_topic, aiokafka_topic = prefix + "raw.order-events", prefix + "aiokafka.order-events"
    b.create_topics(bootstrap, [raw_topic, aiokafka_topic], PARTITIONS)
    events = [models.OrderCreated(order_id=i, user_id=100 + i % 50, total=9.5 + i % 7) for i in range(args.messages)]
    # The generated producer's own librdkafka settings, so the raw producer has the same guarantees.
    config = dict(ctx.messaging._producer_config)  # read, not changed
    config["client.id"] = "bench-raw"

    def raw_headers() -> list[tuple[str, bytes]]:
        message_id = str(uuid.uuid4()).encode()
        traceparent = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01".encode()
        return [
            ("message-id", message_id),
            ("message-type", b"order.created"),
            ("content-type", b"application/json"),
            ("correlation-id", message_id),
            ("traceparent", traceparent),
        ]

    producer = Producer(config)
    failed: list[str] = []

    def report(error: Any, _message: Any) -> None:
        if error is not None:
            failed.append(str(error))

    async def raw(n: int) -> None:
        produce, poll = producer.produce, producer.poll
        for event in events[:n]:
            while True:
                try:
                    produce(
                        raw_topic,
                        event.model_dump_json(by_alias=True).encode(),
                        str(event.user_id).encode(),
                        on_delivery=report,
                        headers=raw_headers(),
                    )
                    break
                except BufferError:
                    poll(0.005)
            poll(0)
        if producer.flush(60) or failed:
            raise RuntimeError(f"raw confluent-kafka: not delivered ({failed[:1]})")

    async def generated(n: int) -> None:
        await ctx.messaging.publish_order_events_many(events[:n])

    async def aiokafka(n: int) -> None:
        from aiokafka import AIOKafkaProducer

        async with AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5, client_id="bench-aiokafka"
        ) as p:
            await (await p.send(aiokafka_topic, b"warm-up"))  # connects and takes its producer id: not timed
            started, cpu = time.perf_counter(), time.process_time()
            futures = [
                await p.send(
                    aiokafka_topic,
                    event.model_dump_json(by_alias=True).encode(),
                    key=str(event.user_id).encode(),
                    headers=raw_headers(),
                )
                for event in events[:n]
            ]
            await asyncio.gather(*futures)
            rates.add("aiokafka", n, time.perf_counter() - started, time.process_time() - cpu)

    candidates = {"raw": raw, "generated": generated}
    names = list(candidates)
    try:
        import aiokafka as _  # noqa: F401

        with_aiokafka = not args.no_aiokafka
    except ImportError:
        with_aiokafka = False
        print("aiokafka is not installed: its candidate is left out (pip install aiokafka)", file=sys.stderr)
    rates = b.Rates([*names, "aiokafka"] if with_aiokafka else names)
    began = time.perf_counter()
    try:
        for fn in candidates.values():  # warm-up: connections, producer ids, metadata
            await fn(min(500, args.messages))
        for r in range(args.rounds):
            for name in c.round_order(names, r):
                started, cpu = time.perf_counter(), time.process_time()
                await candidates[name](args.messages)
                rates.add(name, args.messages, time.perf_counter() - started, time.process_time() - cpu)
            if r == 0 and with_aiokafka:
                await aiokafka(args.messages)
    finally:
        producer.flush(30)
        await ctx.aclose()
        b.delete_topics(bootstrap, prefix)
    summary = rates.summary("raw")
    ratio = summary["generated"]["ratio_of_medians"]
    targets = {"generated / raw confluent-kafka": {"value": ratio, "target": ">= 0.9", "met": ratio >= 0.9}}
    if "aiokafka" in summary:
        targets["raw confluent-kafka / raw aiokafka (1 round)"] = {
            "value": round(summary["raw"]["median"] / summary["aiokafka"]["median"], 2),
            "target": "> 1 (the library choice)",
            "met": summary["raw"]["median"] > summary["aiokafka"]["median"],
        }
    return b.figures(
        args,
        began,
        summary,
        targets,
        partitions=PARTITIONS,
        producer_config={k: v for k, v in config.items() if k not in ("bootstrap.servers", "client.id")},
    )


def main() -> None:
    parser = b.parser(__doc__, "bench_stream_producer", messages=20_000, rounds=5)
    parser.add_argument("--no-aiokafka", action="store_true", help="leave out the aiokafka round")
    args = parser.parse_args()
    amqp_url = b.required(b.AMQP_ENV)
    bootstrap = b.required(b.KAFKA_ENV)
    data = b.run_in_tempdir("bench-stream-", lambda work: run(args, work, amqp_url, bootstrap))
    title = (
        f"Kafka produce, acks=all + idempotence, {args.messages} x OrderCreated per candidate per round, "
        f"{args.rounds} rounds interleaved, {PARTITIONS} partitions"
    )
    b.report("bench_stream_producer", title, {**data, "json_path": args.json})


if __name__ == "__main__":
    main()
