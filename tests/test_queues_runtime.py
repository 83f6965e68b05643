"""The generated RabbitMQ links' own tests against the real broker: a consumer's handler, retry tiers,
dead letters at the delivery limit and for invalid messages, prefetch, handler timeouts; a publisher's
confirms kept in every consumer queue. The generated tests run on the in-memory broker and, with
AMQP_TEST_URL, on RabbitMQ too: here every one must run against RabbitMQ (none skipped)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.brokers import AMQP_URL, broker_address
from tests.generation import generate_example, run_tool


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("queues-runtime") / "out"
    generate_example("guide", root)
    return root


@pytest.mark.parametrize("service", ["notification-service", "order-service"])
def test_generated_amqp_tests_pass_against_the_real_broker(guide: Path, service: str) -> None:
    result = run_tool(
        guide / service,
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-rs",
        "tests/generated/test_messaging.py",
        env={"AMQP_TEST_URL": broker_address(AMQP_URL)},
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and "skipped" not in result.stdout, result.stdout
    # The real-broker variants ran: more tests passed than on the in-memory broker alone.
    alone = run_tool(guide / service, "pytest", "-q", "-p", "no:cacheprovider", "tests/generated/test_messaging.py")
    on_memory = re.search(r"(\d+) passed", alone.stdout)
    assert on_memory and int(passed.group(1)) > int(on_memory.group(1)), (result.stdout, alone.stdout)
