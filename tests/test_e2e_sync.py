"""End to end on loopback: the guide's synchronous path as separate processes.

A user-facing REST call goes into user-service, whose handler calls order-service over gRPC. When
order-service hangs, every failing call is bounded by its deadline; once the breaker is open calls
fail fast; when order-service is stopped and started again, the system recovers by itself.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.generation import generate_example
from tests.processes import Service, free_port, replace_function, wait_ready, without_brokers

DEADLINE_MS = 500
RECOVERY_MS = 1000
LINK = "USER_SERVICE_LINKS__USER_SERVICE_TO_ORDER_SERVICE_CREATE_ORDER__"
ORDER = {"user_id": 123, "items": [{"product_id": 456, "quantity": 2}]}

# The user's own code: place an order by calling order-service (handlers.py is the user's file).
PLACE_ORDER = '''

async def place_order(request: models.CreateOrderRequest, ctx: Context) -> models.Order:
    """Place an order through order-service (gRPC, resilience from the plan)."""
    return await ctx.clients.order_service.create_order(request)
'''


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service, str]]:
    root = tmp_path_factory.mktemp("e2e") / "out"
    generate_example("guide", root)
    replace_function(root / "user-service" / "src" / "user_service" / "handlers.py", "place_order", PLACE_ORDER)

    order_http, order_grpc, user_http = free_port(), free_port(), free_port()
    order = Service(
        root,
        "order-service",
        {
            "ORDER_SERVICE_HTTP_PORT": str(order_http),
            "ORDER_SERVICE_GRPC_PORT": str(order_grpc),
            # No broker: the synchronous path does not wait for the messaging.
            **without_brokers("order-service"),
        },
    )
    user = Service(
        root,
        "user-service",
        {
            "USER_SERVICE_HTTP_PORT": str(user_http),
            "USER_SERVICE_ORDER_SERVICE_TARGET": f"127.0.0.1:{order_grpc}",
            # Every resilience value can be set from the environment; shorter ones keep the test quick.
            f"{LINK}TOTAL_TIMEOUT_MS": str(DEADLINE_MS),
            f"{LINK}BREAKER_RECOVERY_MS": str(RECOVERY_MS),
        },
    )
    try:
        order.start()
        user.start()
        wait_ready(f"http://127.0.0.1:{order_http}/healthz", order)
        wait_ready(f"http://127.0.0.1:{user_http}/readyz", user)
        yield order, user, f"http://127.0.0.1:{user_http}"
    finally:
        user.stop()
        order.stop()


def place_order(base: str) -> tuple[int, float, str]:
    started = time.monotonic()
    response = httpx.post(f"{base}/orders", json=ORDER, timeout=10)
    return response.status_code, time.monotonic() - started, response.text


def wait_until_ok(base: str, seconds: float) -> None:
    until = time.monotonic() + seconds
    status = 0
    while time.monotonic() < until:
        status, _, _ = place_order(base)
        if status == 200:
            return
        time.sleep(0.2)
    pytest.fail(f"no recovery within {seconds} s (last status {status})")


def rejected_by_breaker(result: tuple[int, float, str]) -> bool:
    status, _, body = result
    return status == 503 and "circuit" in body.lower()


def assert_open_breaker(results: list[tuple[int, float, str]], opened_at: float, ended_at: float) -> None:
    """Calls made while the breaker is open are rejected, except at most one probe per recovery
    period: asserted on what the breaker did, not on how fast a loaded machine answered."""
    probes = [r for r in results if not rejected_by_breaker(r)]
    periods = 1 + int((ended_at - opened_at) / (RECOVERY_MS / 1000))
    assert len(probes) <= periods, f"{len(probes)} calls got through in {periods} recovery periods: {results}"
    assert all(t < DEADLINE_MS / 1000 + 0.5 for _, t, _ in probes), f"a probe is bounded by its deadline: {probes}"


def test_hung_callee_is_bounded_by_the_deadline_then_fails_fast_then_recovers(
    system: tuple[Service, Service, str],
) -> None:
    order, _user, base = system
    status, _, body = place_order(base)
    assert status == 200, body
    assert json.loads(body)["user_id"] >= 0

    order.signal(signal.SIGSTOP)  # order-service hangs: connections open, no answers
    try:
        timed_out = []
        opened_at = time.monotonic()  # no later than the breaker opened: the start of its last failure
        for _ in range(10):
            started = time.monotonic()
            result = place_order(base)
            if rejected_by_breaker(result):
                break
            opened_at = started
            status, elapsed, _ = result
            assert status == 504, f"a hung callee shows as a gateway timeout, got {status}"
            timed_out.append(elapsed)
        else:
            pytest.fail("the breaker never opened")
        assert timed_out, "calls time out before the breaker opens"
        assert max(timed_out) < DEADLINE_MS / 1000 + 0.5, f"each failing call is bounded by its deadline: {timed_out}"
        assert len(timed_out) <= 5, "the breaker opens after its threshold (5 failures)"
        assert_open_breaker([place_order(base) for _ in range(5)], opened_at, time.monotonic())
    finally:
        order.signal(signal.SIGCONT)
    wait_until_ok(base, seconds=RECOVERY_MS / 1000 + 10)


def test_stopped_callee_fails_fast_and_the_system_recovers_when_it_is_back(
    system: tuple[Service, Service, str],
) -> None:
    order, _user, base = system
    wait_until_ok(base, seconds=10)
    order.stop()  # killed: connections refused
    results, starts = [], []
    for _ in range(8):
        starts.append(time.monotonic())
        results.append(place_order(base))
    statuses = [s for s, _, _ in results]
    assert set(statuses) <= {502, 503}, statuses
    assert all(t < DEADLINE_MS / 1000 + 0.5 for _, t, _ in results), results
    first = next((i for i, r in enumerate(results) if rejected_by_breaker(r)), None)
    assert first is not None and first > 0, f"the breaker opens after failures: {results}"
    # The breaker opened during the call before the first rejection.
    assert_open_breaker(results[first:], starts[first - 1], time.monotonic())

    order.start()
    wait_until_ok(base, seconds=30)
