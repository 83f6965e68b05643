"""Bytes on the wire and latency: REST (httpx -> uvicorn/FastAPI, JSON) vs gRPC (grpc.aio, protobuf)
for the guide's own payload `{"userId": 123, "items": [{"productId": 456, "quantity": 2}]}`, in the
generated CreateOrder contract (user_id, items[product_id, quantity]).

The guide example is generated into a temp dir and two of its services run as shipped, on loopback:
user-service (REST POST /orders, PlaceOrder: CreateOrderRequest -> Order) and order-service (gRPC
CreateOrder: CreateOrderRequest -> Order). Both reply with the generated handlers' sample Order.

- body sizes: the JSON httpx sends and gets vs the protobuf messages (and the 5-byte gRPC frame prefix)
- bytes per call: a byte-counting TCP proxy (asyncio, its own thread and loop, counts both directions
  of the TCP payload; IP/TCP headers are not counted) sits between client and server: the first call
  on a new connection, then the mean of steady-state calls on the same connection
- latency: sequential calls, reused connections, no proxy, REST and gRPC interleaved in rounds

Compared with the guide's claim (~500 B vs ~50 B, 10x; ~15 ms vs ~3 ms, 5x) and with
shared/reference/baselines.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import _common as c

GUIDE_LITERAL = '{"userId": 123, "items": [{"productId": 456, "quantity": 2}]}'
PAYLOAD = {"user_id": 123, "items": [{"product_id": 456, "quantity": 2}]}
GUIDE_CLAIM = {"rest_bytes": 500, "grpc_bytes": 50, "bytes_ratio": 10, "rest_ms": 15, "grpc_ms": 3, "latency_ratio": 5}
BASELINE_MD = {
    "json_body": 55,
    "pb_body": 9,
    "json_response": 84,
    "pb_response": 21,
    "rest_call": 466,
    "grpc_first_call": 532,
    "grpc_steady_call": 153,
    "rest_p50_us": 760,
    "grpc_p50_us": 400,
    "latency_ratio": "1.7-1.9",
}
CAPTURE_LIMIT = 1 << 20
SETTLE_S = 0.15  # let trailing frames (WINDOW_UPDATE, PING acks) pass the proxy before reading counters


class CountingProxy:
    """TCP proxy on loopback that counts payload bytes in both directions (own thread, own loop)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.c2s = 0
        self.s2c = 0
        self.connections = 0
        self.port = 0
        self.captured = (bytearray(), bytearray())  # c2s, s2c; bounded by CAPTURE_LIMIT
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def total(self) -> int:
        return self.c2s + self.s2c

    def snapshot(self) -> tuple[int, int]:
        return self.c2s, self.s2c

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, c.HOST, 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_r, up_w = await asyncio.open_connection(c.HOST, self.upstream_port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, upstream: bool) -> None:
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        break
                    if upstream:
                        self.c2s += len(data)
                    else:
                        self.s2c += len(data)
                    buffer = self.captured[0 if upstream else 1]
                    if len(buffer) < CAPTURE_LIMIT:
                        buffer.extend(data[: CAPTURE_LIMIT - len(buffer)])
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(pump(client_r, up_w, True), pump(up_r, client_w, False))


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_TYPES = {
    0: "DATA",
    1: "HEADERS",
    2: "PRIORITY",
    3: "RST_STREAM",
    4: "SETTINGS",
    5: "PUSH_PROMISE",
    6: "PING",
    7: "GOAWAY",
    8: "WINDOW_UPDATE",
    9: "CONTINUATION",
}


def h2_frames(data: bytes, calls: int = 1) -> dict[str, int]:
    """Bytes per HTTP/2 frame type (9-byte frame header included), divided by `calls`."""
    out: dict[str, int] = {}
    pos = 0
    if data.startswith(H2_PREFACE):
        out["connection preface"] = len(H2_PREFACE)
        pos = len(H2_PREFACE)
    while pos + 9 <= len(data):
        length = int.from_bytes(data[pos : pos + 3], "big")
        kind = H2_TYPES.get(data[pos + 3], f"type{data[pos + 3]}")
        out[kind] = out.get(kind, 0) + 9 + length
        pos += 9 + length
    return {k: round(v / calls, 1) for k, v in out.items()}


def http1_parts(data: bytes) -> dict[str, int]:
    """Bytes of the head (request/status line and headers) and body of one HTTP/1.1 message."""
    head, _, body = data.partition(b"\r\n\r\n")
    return {"head": len(head) + 4, "body": len(body)}


async def bytes_per_call(proxy: CountingProxy, open_client: Any, call: Any, close: Any, steady: int) -> dict[str, Any]:
    """First call on a new connection (connection setup included), then `steady` more on it."""
    before = proxy.snapshot()
    client = open_client()
    await call(client)
    await asyncio.sleep(SETTLE_S)
    first = proxy.snapshot()
    first_c2s = bytes(proxy.captured[0][before[0] : first[0]])
    first_s2c = bytes(proxy.captured[1][before[1] : first[1]])
    steady_mark = proxy.snapshot()
    for _ in range(steady):
        await call(client)
    await asyncio.sleep(SETTLE_S)
    after = proxy.snapshot()
    await close(client)
    last_c2s = bytes(proxy.captured[0][steady_mark[0] : after[0]])
    last_s2c = bytes(proxy.captured[1][steady_mark[1] : after[1]])
    return {
        "first_call_bytes": (first_c2s, first_s2c),
        "steady_bytes": (last_c2s, last_s2c),
        "first_call": {
            "request": first[0] - before[0],
            "response": first[1] - before[1],
            "total": sum(first) - sum(before),
        },
        "steady_per_call": {
            "request": round((after[0] - first[0]) / steady, 1),
            "response": round((after[1] - first[1]) / steady, 1),
            "total": round((sum(after) - sum(first)) / steady, 1),
        },
        "steady_calls": steady,
    }


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import grpc
    import httpx

    guide = c.generate(c.GUIDE, work / "guide")
    c.add_src(guide / "user-service")
    c.add_src(guide / "order-service")
    from order_service.generated.clients import _http_policy
    from order_service.generated.runtime.http import HttpLimits, ResilientHttpClient
    from order_service.generated.settings import Settings as OrderSettings
    from user_service.generated import models
    from user_service.generated.clients import OrderServiceClient
    from user_service.generated.proto import order_service_pb2 as pb
    from user_service.generated.proto import order_service_pb2_grpc as pb_grpc
    from user_service.generated.settings import Settings as UserSettings

    rest_port, grpc_port, order_http = c.free_port(), c.free_port(), c.free_port()
    user_env = {"USER_SERVICE_HTTP_PORT": str(rest_port), "USER_SERVICE_HTTP_HOST": c.HOST}
    order_env = {
        "ORDER_SERVICE_GRPC_PORT": str(grpc_port),
        "ORDER_SERVICE_HTTP_PORT": str(order_http),
        "ORDER_SERVICE_HTTP_HOST": c.HOST,
    }

    def pb_request() -> Any:
        return pb.CreateOrderRequest(user_id=123, items=[pb.CreateOrderRequestItems(product_id=456, quantity=2)])

    with (
        c.service_process(guide / "user-service", "user_service", user_env),
        c.service_process(guide / "order-service", "order_service", order_env),
    ):
        c.wait_http(rest_port)
        c.wait_grpc(grpc_port)

        # --- serialized bodies ---
        json_request = httpx.Request("POST", f"http://{c.HOST}/orders", json=PAYLOAD).content
        async with httpx.AsyncClient(base_url=f"http://{c.HOST}:{rest_port}") as probe:
            json_response = (await probe.post("/orders", json=PAYLOAD)).content
        async with grpc.aio.insecure_channel(f"{c.HOST}:{grpc_port}") as channel:
            pb_reply = await pb_grpc.OrderServiceStub(channel).CreateOrder(pb_request())
        bodies = {
            "guide_literal_json": len(GUIDE_LITERAL.encode()),
            "json_request_as_sent": len(json_request),
            "json_response": len(json_response),
            "pb_request": len(pb_request().SerializeToString()),
            "pb_response": len(pb_reply.SerializeToString()),
        }
        bodies["pb_request_grpc_framed"] = bodies["pb_request"] + 5
        bodies["pb_response_grpc_framed"] = bodies["pb_response"] + 5
        samples = {
            "json_request": json_request.decode(),
            "json_response": json_response.decode(),
            "pb_request_hex": pb_request().SerializeToString().hex(),
            "pb_response_hex": pb_reply.SerializeToString().hex(),
        }

        # --- bytes per call through the counting proxy ---
        wire: dict[str, Any] = {}
        link = OrderSettings().links.order_service_to_payment_provider_create_charge
        post_policy = _http_policy(link, link, idempotent=False)  # POST with an Idempotency-Key, as planned
        with CountingProxy(rest_port) as rest_proxy, CountingProxy(grpc_port) as grpc_proxy:
            rest_base = f"http://{c.HOST}:{rest_proxy.port}"
            grpc_target = f"{c.HOST}:{grpc_proxy.port}"

            async def rest_call(client: httpx.AsyncClient) -> None:
                r = await client.post("/orders", json=PAYLOAD)
                r.raise_for_status()
                r.json()

            async def aclose(client: Any) -> None:
                await client.aclose()

            wire["rest_httpx"] = await bytes_per_call(
                rest_proxy, lambda: httpx.AsyncClient(base_url=rest_base), rest_call, aclose, args.steady
            )

            async def resilient_call(client: Any) -> None:
                r = await client.request("POST", "/orders", policy=post_policy, json=PAYLOAD)
                r.raise_for_status()
                r.json()

            wire["rest_generated_runtime"] = await bytes_per_call(
                rest_proxy,
                lambda: ResilientHttpClient(
                    rest_base,
                    name="user-service",
                    limits=HttpLimits(link.max_connections, link.max_keepalive_connections),
                ),
                resilient_call,
                aclose,
                args.steady,
            )

            async def grpc_call(stub: Any) -> None:
                await stub.CreateOrder(pb_request())

            async def grpc_close(stub: Any) -> None:
                await stub._bench_channel.close()

            def grpc_open() -> Any:
                channel = grpc.aio.insecure_channel(grpc_target)
                stub = pb_grpc.OrderServiceStub(channel)
                stub._bench_channel = channel
                return stub

            wire["grpc_raw"] = await bytes_per_call(grpc_proxy, grpc_open, grpc_call, grpc_close, args.steady)

            async def client_call(client: Any) -> None:
                await client.create_order(
                    models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
                )

            wire["grpc_generated_client"] = await bytes_per_call(
                grpc_proxy,
                lambda: OrderServiceClient(UserSettings(order_service_target=grpc_target)),
                client_call,
                aclose,
                args.steady,
            )
            wire["proxy_connections"] = {"rest": rest_proxy.connections, "grpc": grpc_proxy.connections}
        for name, w in wire.items():
            if name == "proxy_connections":
                continue
            (req, resp), (sreq, sresp) = w.pop("first_call_bytes"), w.pop("steady_bytes")
            n = w["steady_calls"]
            if name.startswith("rest"):
                w["first_call_parts"] = {"request": http1_parts(req), "response": http1_parts(resp)}
                w["request_head_text"] = req.partition(b"\r\n\r\n")[0].decode("latin-1")
                w["response_head_text"] = resp.partition(b"\r\n\r\n")[0].decode("latin-1")
            else:
                w["first_call_frames"] = {"request": h2_frames(req), "response": h2_frames(resp)}
                w["steady_frames_per_call"] = {"request": h2_frames(sreq, n), "response": h2_frames(sresp, n)}

        # --- latency, direct (no proxy), interleaved ---
        rest = httpx.AsyncClient(base_url=f"http://{c.HOST}:{rest_port}")
        channel = grpc.aio.insecure_channel(f"{c.HOST}:{grpc_port}")
        stub = pb_grpc.OrderServiceStub(channel)

        async def call_rest() -> Any:
            r = await rest.post("/orders", json=PAYLOAD)
            r.raise_for_status()
            return r.json()

        async def call_grpc() -> Any:
            return await stub.CreateOrder(pb_request())

        t0 = time.monotonic()
        result = await c.interleaved_latency(
            {"grpc": call_grpc, "rest": call_rest}, rounds=args.rounds, per_round=args.per_round, warmup=args.warmup
        )
        elapsed = time.monotonic() - t0
        latency = c.latency_report(result, "grpc")
        await rest.aclose()
        await channel.close()

    rest_steady = wire["rest_httpx"]["steady_per_call"]["total"]
    grpc_steady = wire["grpc_raw"]["steady_per_call"]["total"]
    grpc_first = wire["grpc_raw"]["first_call"]["total"]
    rest_first = wire["rest_httpx"]["first_call"]["total"]
    findings = {
        "request_body_ratio_json_over_pb": round(bodies["json_request_as_sent"] / bodies["pb_request"], 2),
        "response_body_ratio_json_over_pb": round(bodies["json_response"] / bodies["pb_response"], 2),
        "steady_call_ratio_rest_over_grpc": round(rest_steady / grpc_steady, 2),
        "first_call_ratio_rest_over_grpc": round(rest_first / grpc_first, 2),
        "latency_p50_ratio_rest_over_grpc": latency["rest"]["p50_ratio"],
        "latency_p99_ratio_rest_over_grpc": latency["rest"]["p99_ratio"],
        "guide_claim_bytes_10x_holds": rest_steady / grpc_steady >= 10,
        "guide_claim_latency_5x_holds": latency["rest"]["p50_ratio"] >= 5,
    }
    return {
        "servers": {
            "rest": "guide user-service POST /orders (uvicorn subprocess as shipped)",
            "grpc": "guide order-service CreateOrder (grpc.aio subprocess as shipped)",
        },
        "payload": PAYLOAD,
        "body_bytes": bodies,
        "body_samples": samples,
        "wire_bytes": wire,
        "rounds": args.rounds,
        "per_round": args.per_round,
        "seconds": round(elapsed, 1),
        "latency_us": latency,
        "findings": findings,
        "guide_claim": GUIDE_CLAIM,
        "baselines_md": BASELINE_MD,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=100, help="calls per protocol per round")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--steady", type=int, default=200, help="steady-state calls counted per client")
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_wire.json)")
    args = parser.parse_args()
    work = c.tempdir("bench-wire-")
    try:
        data = asyncio.run(run(args, work))
    finally:
        c.remove(work)
    b = data["body_bytes"]
    print("serialized bodies (bytes):")
    print(
        c.table(
            ["what", "JSON", "protobuf", "JSON/protobuf"],
            [
                [
                    "request (as sent)",
                    b["json_request_as_sent"],
                    b["pb_request"],
                    f"{b['json_request_as_sent'] / b['pb_request']:.1f}x",
                ],
                ["response", b["json_response"], b["pb_response"], f"{b['json_response'] / b['pb_response']:.1f}x"],
                ["guide literal (camelCase, spaces)", b["guide_literal_json"], "", ""],
            ],
        )
    )
    print(f"  JSON sent: {data['body_samples']['json_request']}   reply: {data['body_samples']['json_response']}")
    print("\nbytes per call on the wire (TCP payload, both directions, via counting proxy):")
    rows = []
    for name in ("rest_httpx", "rest_generated_runtime", "grpc_raw", "grpc_generated_client"):
        w = data["wire_bytes"][name]
        rows.append(
            [
                name,
                w["first_call"]["request"],
                w["first_call"]["response"],
                w["first_call"]["total"],
                w["steady_per_call"]["request"],
                w["steady_per_call"]["response"],
                w["steady_per_call"]["total"],
            ]
        )
    print(c.table(["client", "1st req", "1st resp", "1st total", "steady req", "steady resp", "steady total"], rows))
    print("\nwhere the bytes go (first call / steady per call):")
    for name in ("rest_httpx", "rest_generated_runtime"):
        parts = data["wire_bytes"][name]["first_call_parts"]
        print(
            f"  {name}: request head {parts['request']['head']} + body {parts['request']['body']}, "
            f"response head {parts['response']['head']} + body {parts['response']['body']}"
        )
    for name in ("grpc_raw", "grpc_generated_client"):
        w = data["wire_bytes"][name]
        print(f"  {name} first call: client {w['first_call_frames']['request']}")
        print(f"  {' ' * len(name)}             server {w['first_call_frames']['response']}")
        print(f"  {name} steady: client {w['steady_frames_per_call']['request']}")
        print(f"  {' ' * len(name)}         server {w['steady_frames_per_call']['response']}")
    print("  REST request head as sent by httpx:")
    for line in data["wire_bytes"]["rest_httpx"]["request_head_text"].splitlines():
        print(f"    {line}")
    print("  REST response head from uvicorn:")
    for line in data["wire_bytes"]["rest_httpx"]["response_head_text"].splitlines():
        print(f"    {line}")
    lat = data["latency_us"]
    print(f"\nlatency ({args.rounds} rounds x {args.per_round} calls each, interleaved, us):")
    print(
        c.table(
            ["protocol", "n", "p50", "p99", "p50/grpc", "p99/grpc", "round-median p50 ratio"],
            [
                [
                    k,
                    v["n"],
                    v["p50"],
                    v["p99"],
                    f"{v['p50_ratio']:.2f}",
                    f"{v['p99_ratio']:.2f}",
                    f"{v['round_p50_ratio_median']:.2f}",
                ]
                for k, v in lat.items()
            ],
        )
    )
    f = data["findings"]
    print(
        f"\nguide claims 10x fewer bytes: steady REST/gRPC = {f['steady_call_ratio_rest_over_grpc']}x, first call "
        f"{f['first_call_ratio_rest_over_grpc']}x, bodies {f['request_body_ratio_json_over_pb']}x / "
        f"{f['response_body_ratio_json_over_pb']}x -> "
        f"{'holds' if f['guide_claim_bytes_10x_holds'] else 'does not hold'}"
    )
    print(
        f"guide claims 5x faster: REST/gRPC p50 = {f['latency_p50_ratio_rest_over_grpc']}x -> "
        f"{'holds' if f['guide_claim_latency_5x_holds'] else 'does not hold'}"
    )
    path = c.write_json("bench_wire", data, args.json)
    print(f"\nfigures: {path}", file=sys.stderr)
    json.dumps(data)  # fails loudly if something is not JSON-ready


if __name__ == "__main__":
    main()
