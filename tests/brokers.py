"""Addresses of the real brokers the integration tests use, read from the environment.

`scripts/with-brokers.sh CMD` (or `scripts/brokers/up.sh` and `. .brokers/env`) starts RabbitMQ, Kafka
and PostgreSQL on loopback and exports these variables. Without them a broker test is skipped with the
reason; under `CI=true` a missing broker fails the run instead, so CI can never pass without them.
"""

from __future__ import annotations

import os

import pytest

AMQP_URL = "SCAFFOLD_TEST_AMQP_URL"
KAFKA_BOOTSTRAP = "SCAFFOLD_TEST_KAFKA_BOOTSTRAP"
POSTGRES_URL = "SCAFFOLD_TEST_POSTGRES_URL"


def broker_address(variable: str) -> str:
    """The value of ``variable``, or skip (fail under CI=true) saying how to start the brokers."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value
    missing(f"{variable} is not set: start the brokers with `scripts/with-brokers.sh .venv/bin/pytest ...`")
    raise AssertionError("unreachable")


def missing(reason: str) -> None:
    """Skip the test with ``reason``; under CI=true fail it, since CI must provide every broker and tool."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def kafka_env(service: str, bootstrap: str, prefix: str) -> dict[str, str]:
    """Settings that put a generated service's Kafka links on the shared test broker, a single node,
    with topics under ``prefix``."""
    env = service.replace("-", "_").upper() + "_KAFKA__"
    return {
        f"{env}BOOTSTRAP_SERVERS": bootstrap,
        f"{env}TOPIC_PREFIX": prefix,
        f"{env}REPLICATION_FACTOR": "1",
        f"{env}MIN_INSYNC_REPLICAS": "1",
    }


def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete the topics whose names start with ``prefix`` (what a test's services created)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [name for name in admin.list_topics(timeout=30).topics if name.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result()
