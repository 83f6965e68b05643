"""Interop on loopback: generated gRPC clients against a generated gRPC server, every call kind.

order-service runs as its own process with handlers a user could have written; user-service's and
notification-service's generated clients call it from processes of their own (each caller's package
carries its own compiled stubs), so what crosses the wire is exactly what two deployed services send:
unary, server streaming, client streaming and bidirectional streaming, every field checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.generation import generate_example
from tests.processes import Service, free_port, replace_function, wait_ready, without_brokers

# The user's handlers in order-service: every answer is derived from what the caller sent.
HANDLERS = {
    "create_order": '''
async def create_order(request: models.CreateOrderRequest, ctx: Context) -> models.Order:
    """Price the order from its items, so the reply proves every field arrived."""
    total = sum(item.quantity * 1.5 for item in request.items)
    order_id = 1000 + request.items[0].product_id
    return models.Order(order_id=order_id, user_id=request.user_id, status=models.Status.paid, total=total)
''',
    "watch_order": '''
async def watch_order(request: models.GetOrderRequest, ctx: Context) -> AsyncIterator[models.OrderStatus]:
    """Three status updates of the order asked for."""
    for status in ("pending", "paid", "shipped"):
        yield models.OrderStatus(order_id=request.order_id, status=status)
''',
    "import_orders": '''
async def import_orders(requests: AsyncIterator[models.CreateOrderRequest], ctx: Context) -> models.ImportSummary:
    """Count the imported orders and their items."""
    imported = 0
    async for request in requests:
        imported += 100 + sum(item.quantity for item in request.items)
    return models.ImportSummary(imported=imported)
''',
    "sync_statuses": '''
async def sync_statuses(
    requests: AsyncIterator[models.GetOrderRequest], ctx: Context
) -> AsyncIterator[models.OrderStatus]:
    """Acknowledge each subscription as it arrives."""
    async for request in requests:
        yield models.OrderStatus(order_id=request.order_id, status=f"ack-{request.order_id}")
''',
}

USER_SERVICE_CALLS = """
import asyncio, json
from user_service.generated import models
from user_service.generated.clients import Clients
from user_service.generated.settings import Settings

async def main():
    clients = Clients(Settings())
    items = [models.Item(product_id=456, quantity=2), models.Item(product_id=9, quantity=4)]
    order = await clients.order_service.create_order(models.CreateOrderRequest(user_id=7, items=items))
    watched = [s.model_dump() async for s in clients.order_service.watch_order(models.GetOrderRequest(order_id=31))]

    async def orders():
        for n in range(3):
            yield models.CreateOrderRequest(user_id=n, items=[models.Item(product_id=n, quantity=n + 1)])

    summary = await clients.order_service.import_orders(orders())
    await clients.aclose()
    print(json.dumps({"order": order.model_dump(mode="json"), "watched": watched, "summary": summary.model_dump()}))

asyncio.run(main())
"""

NOTIFICATION_SERVICE_CALLS = """
import asyncio, json
from notification_service.generated import models
from notification_service.generated.clients import Clients
from notification_service.generated.settings import Settings

async def main():
    clients = Clients(Settings())

    async def subscriptions():
        for order_id in (5, 6, 7):
            yield models.GetOrderRequest(order_id=order_id)

    acks = [s.model_dump() async for s in clients.order_service.sync_statuses(subscriptions())]
    await clients.aclose()
    print(json.dumps({"acks": acks}))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def order_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    root = tmp_path_factory.mktemp("interop") / "out"
    generate_example("guide", root)
    handlers = root / "order-service" / "src" / "order_service" / "handlers.py"
    for name, source in HANDLERS.items():
        replace_function(handlers, name, source)
    http, grpc = free_port(), free_port()
    service = Service(
        root,
        "order-service",
        {
            "ORDER_SERVICE_HTTP_PORT": str(http),
            "ORDER_SERVICE_GRPC_PORT": str(grpc),
            **without_brokers("order-service"),
        },
    )
    try:
        service.start()
        # The gRPC path serves while the messaging (no broker here) keeps trying to start.
        wait_ready(f"http://127.0.0.1:{http}/healthz", service)
        yield root, grpc
    finally:
        service.stop()


def call_from(root: Path, caller: str, script: str, grpc_port: int) -> dict[str, Any]:
    prefix = caller.upper().replace("-", "_")
    env = {
        **os.environ,
        "PYTHONPATH": str(root / caller / "src"),
        f"{prefix}_ORDER_SERVICE_TARGET": f"127.0.0.1:{grpc_port}",
    }
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_unary_server_streaming_and_client_streaming_calls_carry_every_field(order_service: tuple[Path, int]) -> None:
    root, port = order_service
    got = call_from(root, "user-service", USER_SERVICE_CALLS, port)
    assert got["order"] == {"order_id": 1456, "user_id": 7, "status": "paid", "total": 9.0}
    assert got["watched"] == [
        {"order_id": 31, "status": "pending"},
        {"order_id": 31, "status": "paid"},
        {"order_id": 31, "status": "shipped"},
    ]
    assert got["summary"] == {"imported": 100 + 1 + 100 + 2 + 100 + 3}


def test_bidirectional_streaming_answers_each_request(order_service: tuple[Path, int]) -> None:
    root, port = order_service
    got = call_from(root, "notification-service", NOTIFICATION_SERVICE_CALLS, port)
    assert got["acks"] == [{"order_id": n, "status": f"ack-{n}"} for n in (5, 6, 7)]
