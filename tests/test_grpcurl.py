"""A generated gRPC server from an imported contract, driven by an independent client (grpcurl):
reflection v1 and v1alpha, a unary and a server-streaming call whose fields have underscores, a googleapis reply."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Iterator

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2

from tests.generation import generate_example
from tests.grpcurl import grpcurl, running_server

HANDLERS = '''
"""Handlers that echo what they were sent, to see every field arrive."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from .generated import models
from .generated.context import Context


async def get_item(request: models.GetItemRequest, ctx: Context) -> models.Item:
    paths = request.readMask or []
    return models.Item(
        itemId=request.itemId,
        createdAt=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        timeToLive=timedelta(seconds=90),
        unitPrice=models.ItemMoney(currencyCode="EUR", wholeUnits=12, nanoUnits=500),
        searchTags=paths,
        displayNote="a note",
        labelValues={"page_kind": "detail"},
    )


async def list_items(request: models.ListItemsRequest, ctx: Context) -> AsyncIterator[models.Item]:
    for index in range(request.pageSize or 0):
        yield models.Item(itemId=f"{request.pageToken}-{index}", reorderLevel=index)


async def delete_item(request: models.GetItemRequest, ctx: Context) -> models.Empty:
    return models.Empty()


async def export_item(request: models.GetItemRequest, ctx: Context) -> models.HttpBody:
    # bytes travel as base64 text, as in protobuf's JSON mapping
    return models.HttpBody(contentType="text/csv", data=base64.b64encode(f"id;{request.itemId}".encode()).decode())
'''

SERVER = """
import asyncio

from shop_service.generated.context import Context
from shop_service.generated.grpc_server import serve


async def main() -> None:
    server, port = await serve(Context(), "127.0.0.1", 0)
    print(port, flush=True)
    await server.wait_for_termination()


asyncio.run(main())
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("interop") / "out"
    generate_example("protos", out)
    service = out / "shop-service"
    (service / "src" / "shop_service" / "handlers.py").write_text(textwrap.dedent(HANDLERS), encoding="utf-8")
    with running_server(service, SERVER) as (port, *_):
        yield f"127.0.0.1:{port}"


def test_grpcurl_lists_the_services_through_reflection(server: str) -> None:
    services = grpcurl(server, "list")
    assert {"shop.v2.ShopCatalog", "grpc.health.v1.Health"} <= set(services)


def test_reflection_v1_and_v1alpha_both_answer(server: str) -> None:
    with grpc.insecure_channel(server) as channel:
        for version in ("v1", "v1alpha"):
            info = channel.stream_stream(
                f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            replies = list(info(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=60))
            names = {s.name for s in replies[0].list_services_response.service}
            assert "shop.v2.ShopCatalog" in names, version


def test_unary_call_keeps_fields_with_underscores(server: str) -> None:
    data = {"item_id": "sku_1", "read_mask": {"paths": ["item_id", "unit_price"]}}
    [reply] = grpcurl(server, "shop.v2.ShopCatalog/GetItem", data=data)
    assert reply == {
        "itemId": "sku_1",
        "createdAt": "2024-01-02T03:04:05Z",
        "timeToLive": "90s",
        "unitPrice": {"currencyCode": "EUR", "wholeUnits": "12", "nanoUnits": 500},
        "searchTags": ["item_id", "unit_price"],
        "displayNote": "a note",
        "labelValues": {"page_kind": "detail"},
    }


def test_server_streaming_call_keeps_fields_with_underscores(server: str) -> None:
    replies = grpcurl(server, "shop.v2.ShopCatalog/ListItems", data={"page_size": 3, "page_token": "p_t"})
    assert replies == [{"itemId": f"p_t-{i}", "reorderLevel": i} for i in range(3)]


def test_empty_reply(server: str) -> None:
    assert grpcurl(server, "shop.v2.ShopCatalog/DeleteItem", data={"itemId": "x"}) == [{}]


def test_a_googleapis_message_as_the_reply(server: str) -> None:
    [reply] = grpcurl(server, "shop.v2.ShopCatalog/ExportItem", data={"item_id": "sku_9"})
    # googleapis-common-protos' descriptors carry no json_name: grpcurl prints that field by its
    # proto name, which protobuf's JSON mapping accepts as well.
    assert reply == {"content_type": "text/csv", "data": base64.b64encode(b"id;sku_9").decode()}
