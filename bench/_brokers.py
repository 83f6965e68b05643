"""What the broker benchmarks share: the brokers' addresses from the environment, settings of a
generated service that point at them under a private name prefix, and clean-up of what a run made.

Every exchange, queue and topic a run makes is named behind a prefix of its own (``bench-<hex>.``),
so a run never meets another user of the same brokers, and is deleted at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

AMQP_ENV = "SCAFFOLD_TEST_AMQP_URL"
KAFKA_ENV = "SCAFFOLD_TEST_KAFKA_BOOTSTRAP"
POSTGRES_ENV = "SCAFFOLD_TEST_POSTGRES_URL"
HINT = "start the brokers with scripts/brokers/up.sh, then `. .brokers/env`"


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set: {HINT}")
    return value


def prefix() -> str:
    """A fresh name prefix: nobody else's exchanges, queues or topics start with it."""
    return f"bench-{uuid.uuid4().hex[:8]}."


def sqlite_url(work: Path, name: str) -> str:
    return f"sqlite:///{work / (name + '.sqlite3')}"


def settings(
    module: Any,
    *,
    amqp_url: str,
    kafka_bootstrap: str,
    amqp_prefix: str = "",
    topic_prefix: str = "",
    database_url: str | None = None,
) -> Any:
    """A generated service's `Settings` on the test brokers: names behind the prefixes, Kafka topics
    replicated once (a single dev broker; acks=all and idempotence are the producer's as planned)."""
    fields: dict[str, Any] = {}
    model = module.Settings.model_fields
    if "amqp" in model:
        fields["amqp"] = module.AmqpSettings(url=amqp_url, name_prefix=amqp_prefix)
    if "kafka" in model:
        fields["kafka"] = module.KafkaSettings(
            bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, replication_factor=1, min_insync_replicas=1
        )
    if "store" in model and database_url is not None:
        fields["store"] = module.StoreSettings(database_url=database_url)
    return module.Settings(**fields)


async def drop_queue_topology(url: str, topology: Any) -> None:
    """Delete one queue link's exchanges and queues (made by the generated `declare_topology`)."""
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        t = topology
        for queue in (t.queue, t.dead_letter_queue, *(t.retry_queue(d) for d in t.retry_delays_ms)):
            await channel.queue_delete(queue)
        for exchange in (t.exchange, t.dead_letter_exchange):
            await channel.exchange_delete(exchange)


def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    """Create topics (replication 1) and wait until they exist."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(n, partitions, 1) for n in names], operation_timeout=30)
    for future in futures.values():
        future.result(timeout=60)


def delete_topics(bootstrap: str, topic_prefix: str) -> None:
    """Delete every topic whose name starts with ``topic_prefix`` (a run's own prefix)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [n for n in admin.list_topics(timeout=30).topics if n.startswith(topic_prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            try:
                future.result(timeout=60)
            except Exception as exc:  # best effort: the broker may still be deleting it
                print(f"could not delete a bench topic: {exc}", file=sys.stderr)


class Rates:
    """Per candidate and round: messages per second (wall clock) and client CPU time per message
    (this process, every thread: librdkafka's too), plus the per-round ratio to the baseline."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.rate: dict[str, list[float]] = {n: [] for n in names}
        self.cpu_us: dict[str, list[float]] = {n: [] for n in names}

    def add(self, name: str, messages: int, wall_s: float, cpu_s: float) -> None:
        self.rate[name].append(messages / wall_s)
        self.cpu_us[name].append(cpu_s / messages * 1e6)

    def summary(self, baseline: str) -> dict[str, Any]:
        import statistics

        out: dict[str, Any] = {}
        base = statistics.median(self.rate[baseline])
        base_cpu = statistics.median(self.cpu_us[baseline])
        for name in self.names:
            rates, cpu = self.rate[name], self.cpu_us[name]
            if not rates:
                continue
            per_round = [r / b0 for r, b0 in zip(rates, self.rate[baseline], strict=False)]
            out[name] = {
                "median": round(statistics.median(rates)),
                "min": round(min(rates)),
                "max": round(max(rates)),
                "rounds": len(rates),
                "cpu_us_per_msg": round(statistics.median(cpu), 1),
                "ratio_of_medians": round(statistics.median(rates) / base, 3),
                "median_round_ratio": round(statistics.median(per_round), 3) if name != baseline else 1.0,
                "cpu_ratio": round(statistics.median(cpu) / base_cpu, 3),
            }
        return out


def rows(summary: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            n,
            s["median"],
            s["min"],
            s["max"],
            s["rounds"],
            s["ratio_of_medians"],
            s["median_round_ratio"],
            s["cpu_us_per_msg"],
        ]
        for n, s in summary.items()
    ]


HEADERS = ["candidate", "msg/s median", "min", "max", "rounds", "ratio", "round ratio", "CPU us/msg"]


def run_in_tempdir(prefix: str, run: Any) -> dict[str, Any]:
    """``asyncio.run(run(work))`` with a temp dir ``work`` that is removed afterwards."""
    import asyncio

    import _common as c

    work = c.tempdir(prefix)
    try:
        return dict(asyncio.run(run(work)))
    finally:
        c.remove(work)


def report(name: str, title: str, data: dict[str, Any]) -> None:
    """Print the run's table and targets, and write its figures as JSON."""
    import _common as c

    print(f"{title} ({data['seconds']} s, load {data['machine']['loadavg_1_5_15']})")
    print(c.table(HEADERS, rows(data["msg_per_s"])))
    for target, t in data["targets"].items():
        verdict = "no target" if t["target"] == "none" else f"target {t['target']}: {'met' if t['met'] else 'NOT met'}"
        print(f"{target}: {t['value']}x ({verdict})")
    figures = {key: value for key, value in data.items() if key != "json_path"}
    path = c.write_json(name, figures, data.get("json_path"))
    print(f"\nfigures: {path}", file=sys.stderr)


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server for this run (dropped afterwards): its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parser(doc: str | None, name: str, *, messages: int, rounds: int) -> Any:
    """The options every broker benchmark has."""
    import argparse

    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=messages, help="messages per candidate per round")
    p.add_argument("--rounds", type=int, default=rounds)
    p.add_argument("--json", help=f"where to write the figures (default bench/results/{name}.json)")
    return p


def figures(args: Any, began: float, summary: dict[str, Any], targets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What a broker benchmark's run returns: its settings, the rates per candidate, its targets."""
    import time

    import _common as c

    return {
        "messages": args.messages,
        "rounds": args.rounds,
        **extra,
        "seconds": round(time.perf_counter() - began, 1),
        "machine": c.machine(),
        "msg_per_s": summary,
        "targets": targets,
    }


def run_with_postgres(prefix: str, run: Any) -> dict[str, Any]:
    """`run_in_tempdir(prefix, lambda work: run(work, postgres))`, ``postgres`` the URL of a database
    made for the run when SCAFFOLD_TEST_POSTGRES_URL is set, else None."""
    server = os.environ.get(POSTGRES_ENV)
    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(postgres_database(server)) if server else None
        return run_in_tempdir(prefix, lambda work: run(work, postgres))
