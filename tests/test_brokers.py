"""The brokers the asynchronous links run on, started by scripts/brokers/ as local processes.

These pin down the broker behaviour that queue and stream links rely on (and that differs between
versions), so a change of broker version that breaks an assumption fails here first. Each test also
talks to the broker with an independent command-line client (amqp-tools, kcat) where one exists.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.brokers import AMQP_URL, KAFKA_BOOTSTRAP, POSTGRES_URL, broker_address, missing


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"`{name}` is not installed: scripts/brokers/up.sh installs it")
    assert path is not None
    return path


# ---------------------------------------------------------------------------------------------- RabbitMQ


def test_quorum_queue_dead_letters_after_the_delivery_limit() -> None:
    """RabbitMQ 3.10 has no default delivery limit: a queue declared with one dead-letters the message."""
    aio_pika = pytest.importorskip("aio_pika")
    url = broker_address(AMQP_URL)
    name = f"scaffold-test-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[int, dict[str, object], bytes, str | None]:
        connection = await aio_pika.connect_robust(url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            dlx = await channel.declare_exchange(f"{name}.dlx", aio_pika.ExchangeType.FANOUT, auto_delete=True)
            dlq = await channel.declare_queue(f"{name}.dlq", durable=True, arguments={"x-queue-type": "quorum"})
            await dlq.bind(dlx)
            queue = await channel.declare_queue(
                name,
                durable=True,
                arguments={"x-queue-type": "quorum", "x-delivery-limit": 2, "x-dead-letter-exchange": f"{name}.dlx"},
            )
            message = aio_pika.Message(b"poison", message_id="m-1", delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await channel.default_exchange.publish(message, routing_key=name)
            deliveries = 0
            while True:
                incoming = await queue.get(fail=False, timeout=5)
                if incoming is None:
                    break
                deliveries += 1
                await incoming.nack(requeue=True)
            dead = None
            for _ in range(50):  # dead-lettering is asynchronous: poll the state, not the clock
                dead = await dlq.get(fail=False)
                if dead is not None:
                    break
                await asyncio.sleep(0.1)
            assert dead is not None
            await dead.ack()
            await queue.delete(if_unused=False, if_empty=False)
            await dlq.delete(if_unused=False, if_empty=False)
            return deliveries, dict(dead.headers), dead.body, dead.message_id

    deliveries, headers, body, message_id = asyncio.run(scenario())
    assert deliveries == 3  # limit 2: the first delivery and two redeliveries
    assert headers["x-first-death-reason"] == "delivery_limit"
    assert (body, message_id) == (b"poison", "m-1")


def test_amqp_tools_publish_and_consume() -> None:
    url = broker_address(AMQP_URL).rstrip("/")  # amqp-tools read a trailing "/" as the vhost ""
    publish, consume = _tool("amqp-publish"), _tool("amqp-consume")
    queue = f"scaffold-cli-{uuid.uuid4().hex[:8]}"
    subprocess.run(["amqp-declare-queue", "--url", url, "-q", queue], check=True, capture_output=True, timeout=30)
    subprocess.run([publish, "--url", url, "-r", queue, "-b", "hello"], check=True, timeout=30)
    got = subprocess.run(
        [consume, "--url", url, "-q", queue, "-c", "1", "cat"], check=True, capture_output=True, text=True, timeout=30
    )
    subprocess.run(["amqp-delete-queue", "--url", url, "-q", queue], check=True, capture_output=True, timeout=30)
    assert got.stdout == "hello"


# ---------------------------------------------------------------------------------------------- Kafka


@pytest.fixture
def topic() -> Iterator[str]:
    kafka = pytest.importorskip("confluent_kafka.admin")
    bootstrap = broker_address(KAFKA_BOOTSTRAP)
    admin = kafka.AdminClient({"bootstrap.servers": bootstrap})
    name = f"scaffold-test-{uuid.uuid4().hex[:8]}"
    for future in admin.create_topics([kafka.NewTopic(name, num_partitions=3, replication_factor=1)]).values():
        future.result(timeout=30)
    yield name
    for future in admin.delete_topics([name]).values():
        future.result(timeout=30)


def test_topics_are_not_created_implicitly() -> None:
    confluent_kafka = pytest.importorskip("confluent_kafka")
    bootstrap = broker_address(KAFKA_BOOTSTRAP)
    producer = confluent_kafka.Producer(
        {"bootstrap.servers": bootstrap, "message.timeout.ms": 3000, "topic.metadata.propagation.max.ms": 2000}
    )
    errors: list[object] = []
    producer.produce(f"scaffold-missing-{uuid.uuid4().hex[:8]}", b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(15)
    assert errors and errors[0] is not None


def test_two_consumer_groups_each_read_every_message_in_key_order(topic: str) -> None:
    confluent_kafka = pytest.importorskip("confluent_kafka")
    bootstrap = broker_address(KAFKA_BOOTSTRAP)
    producer = confluent_kafka.Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    )
    sent = [(f"key-{i % 4}".encode(), str(i).encode()) for i in range(40)]
    for key, value in sent:
        producer.produce(topic, value, key=key)
    assert producer.flush(30) == 0

    def read_all(group: str) -> list[tuple[bytes, bytes]]:
        consumer = confluent_kafka.Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([topic])
        got: list[tuple[bytes, bytes]] = []
        for _ in range(120):
            if len(got) == len(sent):
                break
            for message in consumer.consume(num_messages=100, timeout=0.5):
                assert message.error() is None
                got.append((message.key(), message.value()))
        consumer.commit(asynchronous=False)
        consumer.close()
        return got

    for group in ("analytics", "audit"):
        got = read_all(f"{group}-{topic}")
        assert sorted(got) == sorted(sent)
        for key in {k for k, _ in sent}:  # one key -> one partition -> the order it was sent in
            assert [v for k, v in got if k == key] == [v for k, v in sent if k == key]


def test_kcat_reads_what_the_producer_wrote(topic: str) -> None:
    confluent_kafka = pytest.importorskip("confluent_kafka")
    bootstrap = broker_address(KAFKA_BOOTSTRAP)
    kcat = _tool("kcat")
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    producer.produce(topic, b"from-python", key=b"k")
    assert producer.flush(30) == 0
    out = subprocess.run(
        [kcat, "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", "1", "-e", "-f", "%k=%s\n"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip() == "k=from-python"


# ---------------------------------------------------------------------------------------------- PostgreSQL


def test_postgres_commits_and_rolls_back() -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = broker_address(POSTGRES_URL).replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sqlalchemy.create_engine(url)
    table = f"t_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE TABLE {table} (id text PRIMARY KEY)"))
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"INSERT INTO {table} VALUES ('lost')"))
        raise RuntimeError("crash before commit")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"INSERT INTO {table} VALUES ('kept')"))
        rows = connection.execute(sqlalchemy.text(f"SELECT id FROM {table}")).scalars().all()
        connection.execute(sqlalchemy.text(f"DROP TABLE {table}"))
    engine.dispose()
    assert rows == ["kept"]
