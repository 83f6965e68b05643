"""The generated Kafka runtime's own tests against the real broker: order per key under retries,
dead letters, backpressure of a slow consumer (bounded buffer, paused partition), two consumer groups,
keys on the partitions the Java client picks. Each of those tests states the counts it checks; here
every one must run against Kafka (none skipped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.brokers import KAFKA_BOOTSTRAP, broker_address
from tests.generation import generate_example, run_tool


@pytest.fixture(scope="module")
def analytics(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("streams-runtime") / "out"
    generate_example("guide", root)
    return root / "analytics-service"


def test_generated_kafka_tests_pass_against_the_real_broker(analytics: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_TEST_BOOTSTRAP_SERVERS", broker_address(KAFKA_BOOTSTRAP))
    result = run_tool(
        analytics, "pytest", "-q", "-p", "no:cacheprovider", "-rs", "tests/generated/test_runtime_kafka.py"
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    # 6 tests on both brokers, 2 on the in-memory one only: 14, none skipped.
    assert "14 passed" in result.stdout and "skipped" not in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("service", "expected"),
    # analytics-service consumes: 1 in-memory-only test + 4 on both brokers; order-service publishes:
    # 1 + 3 on both brokers.
    [("analytics-service", "9 passed"), ("order-service", "7 passed")],
)
def test_generated_stream_link_tests_pass_against_the_real_broker(
    analytics: Path, service: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_TEST_BOOTSTRAP_SERVERS", broker_address(KAFKA_BOOTSTRAP))
    result = run_tool(
        analytics.parent / service, "pytest", "-q", "-p", "no:cacheprovider", "-rs", "tests/generated/test_streams.py"
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert expected in result.stdout and "skipped" not in result.stdout, result.stdout
