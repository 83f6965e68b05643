"""Generated gRPC client vs raw grpc.aio stub calls, against one generated gRPC server (subprocess).

The guide example is generated into a temp dir; its order-service runs as shipped
(`python -m order_service`, gRPC and HTTP on free loopback ports), and every candidate makes unary
CreateOrder calls with the guide's payload (user_id 123, one item: product_id 456, quantity 2),
sequentially, each over its own channel (one reused HTTP/2 connection):

- raw            baseline: grpc.aio.insecure_channel(target) with no options, stub.CreateOrder(pb request)
- raw_again      the same as raw on a second channel: two identical candidates, whose difference is the
                 noise of one run
- raw_configured the same stub call on a channel with the generated channel options (service config
                 with retries enabled and retry throttling, keepalive) and timeout=<planned deadline>:
                 what grpc core itself adds for the generated configuration
- raw_timeout    the raw stub call with timeout=<planned deadline> (no channel options)
- caller_cm      caller as it was before its fast path: the same guards entered through their
                 generator-based context managers (bulkhead.slot(), breaker.guard())
- caller         the generated runtime: ResilientGrpcCaller.unary (deadline, breaker, bulkhead) around the
                 stub on the generated channel, with the planned policy of the link
- caller_spin    caller plus 8 us of busy-waiting (4 before the call, 4 after): what that much plain CPU
                 work costs end to end on this machine, to compare with the conversions' cost
- caller_conv    caller plus the client's conversions (build the pydantic request, model_to_message,
                 message_to_model), without the client object
- client         the generated user-service's OrderServiceClient.create_order(models.CreateOrderRequest):
                 caller + pydantic <-> protobuf conversion (runtime/messages.py) on request and reply

Targets: the generated client costs at most 5% at p50 over raw stub calls (client / raw <= 1.05);
the resilience wrapping alone is caller / raw. The server converts the same way for every
candidate; its conversions are measured in process (server_* rows of the conversion table).
`--profile` adds a pyinstrument/cProfile profile of the client's Python work per call.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import _common as c


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import grpc

    guide = c.generate(c.GUIDE, work / "guide")
    c.add_src(guide / "user-service")
    from user_service.generated import models
    from user_service.generated.clients import OrderServiceClient
    from user_service.generated.proto import order_service_pb2 as pb
    from user_service.generated.proto import order_service_pb2_grpc as pb_grpc
    from user_service.generated.runtime.grpc import ResilientGrpcCaller
    from user_service.generated.settings import Settings

    grpc_port, http_port = c.free_port(), c.free_port()
    env = {
        "ORDER_SERVICE_GRPC_PORT": str(grpc_port),
        "ORDER_SERVICE_HTTP_PORT": str(http_port),
        "ORDER_SERVICE_HTTP_HOST": c.HOST,
    }
    target = f"{c.HOST}:{grpc_port}"
    with c.service_process(guide / "order-service", "order_service", env):
        c.wait_grpc(grpc_port)
        settings = Settings(order_service_target=target)
        client = OrderServiceClient(settings)
        policy = client._policies["create_order"]  # the planned policy of the link, as the client uses it
        options = client._options

        raw_channel = grpc.aio.insecure_channel(target)
        raw_stub = pb_grpc.OrderServiceStub(raw_channel)
        again_channel = grpc.aio.insecure_channel(target)
        again_stub = pb_grpc.OrderServiceStub(again_channel)
        conf_channel = grpc.aio.insecure_channel(target, options=options)
        conf_stub = pb_grpc.OrderServiceStub(conf_channel)
        caller_channel = grpc.aio.insecure_channel(target, options=options)
        caller_stub = pb_grpc.OrderServiceStub(caller_channel)
        caller = ResilientGrpcCaller(name="order-service")  # guards from the policy, one set per link
        timeout = policy.total_timeout_s

        def pb_request() -> Any:
            return pb.CreateOrderRequest(user_id=123, items=[pb.CreateOrderRequestItems(product_id=456, quantity=2)])

        async def call_raw() -> Any:
            return await raw_stub.CreateOrder(pb_request())

        async def call_raw_again() -> Any:
            return await again_stub.CreateOrder(pb_request())

        async def call_configured() -> Any:
            return await conf_stub.CreateOrder(pb_request(), timeout=timeout)

        async def call_raw_timeout() -> Any:
            return await raw_stub.CreateOrder(pb_request(), timeout=timeout)

        async def call_caller() -> Any:
            return await caller.unary(caller_stub.CreateOrder, pb_request(), policy)

        from user_service.generated.runtime.grpc import _breaker_outcome, _unary_timeout

        async def call_caller_cm() -> Any:  # the previous unary path: the guards' context managers
            breaker, bulkhead = caller._guards_of(policy)
            call_timeout, caller_bound = _unary_timeout(policy)
            with bulkhead.slot(), breaker.guard(lambda exc: _breaker_outcome(exc, caller_bound=caller_bound)):
                return await caller_stub.CreateOrder(pb_request(), timeout=call_timeout)

        async def call_client() -> Any:
            return await client.create_order(
                models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
            )

        from user_service.generated.runtime.messages import message_to_model, model_to_message

        def spin(ns: int) -> None:
            end = time.perf_counter_ns() + ns
            while time.perf_counter_ns() < end:
                pass

        async def call_caller_spin() -> Any:
            spin(4000)
            reply = await caller.unary(caller_stub.CreateOrder, pb_request(), policy)
            spin(4000)
            return reply

        async def call_caller_conv() -> Any:
            request = models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
            message = model_to_message(request, pb.CreateOrderRequest)
            return message_to_model(await caller.unary(caller_stub.CreateOrder, message, policy), models.Order)

        candidates = {
            "raw": call_raw,
            "raw_again": call_raw_again,
            "raw_timeout": call_raw_timeout,
            "raw_configured": call_configured,
            "caller": call_caller,
            "caller_cm": call_caller_cm,
            "caller_spin": call_caller_spin,
            "caller_conv": call_caller_conv,
            "client": call_client,
        }
        assert (await call_raw()).order_id == 1 and (await call_client()).order_id == 1
        t0 = time.monotonic()
        result = await c.interleaved_latency(
            candidates, rounds=args.rounds, per_round=args.per_round, warmup=args.warmup
        )
        elapsed = time.monotonic() - t0
        report = c.latency_report(result, "raw")
        profile = await profile_client(call_client) if args.profile else None
        await client.aclose()
        for channel in (raw_channel, again_channel, conf_channel, caller_channel):
            await channel.close()
    return {
        "server": "guide order-service (generated grpc.aio server with its interceptor, health, reflection; "
        "subprocess as shipped), unary CreateOrder",
        "policy": {k: getattr(policy, k) for k in policy.__dataclass_fields__},
        "channel_options": [[k, v] for k, v in options],
        "rounds": args.rounds,
        "per_round": args.per_round,
        "warmup": args.warmup,
        "seconds": round(elapsed, 1),
        "latency_us": report,
        "targets": {
            "client": {
                "metric": "client p50 / raw p50",
                "max": 1.05,
                "value": report["client"]["p50_ratio"],
                "met": report["client"]["p50_ratio"] <= 1.05,
            },
            "caller": {
                "metric": "caller p50 / raw p50",
                "max": 1.05,
                "value": report["caller"]["p50_ratio"],
                "met": report["caller"]["p50_ratio"] <= 1.05,
            },
        },
        "client_profile": profile,
    }


async def profile_client(call: Any) -> dict[str, Any]:
    """Profile 3000 client calls against the live server (network wait shows as the await)."""
    try:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001, async_mode="enabled")
        profiler.start()
        for _ in range(3000):
            await call()
        profiler.stop()
        return {"profiler": "pyinstrument", "text": profiler.output_text(unicode=False, color=False)}
    except ImportError:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(3000):
            await call()
        prof.disable()
        stream = io.StringIO()
        pstats.Stats(prof, stream=stream).sort_stats("cumulative").print_stats(30)
        return {"profiler": "cProfile", "text": stream.getvalue()}


async def conversion_costs() -> dict[str, float]:
    """The client's pydantic <-> protobuf conversions alone, in process (no network), p50 us."""
    from user_service.generated import models
    from user_service.generated.proto import order_service_pb2 as pb
    from user_service.generated.runtime.messages import message_to_model, model_to_message

    request = models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
    reply = pb.Order(order_id=1, user_id=1, status="pending", total=1.0)

    async def to_pb() -> Any:
        return model_to_message(request, pb.CreateOrderRequest)

    async def from_pb() -> Any:
        return message_to_model(reply, models.Order)

    async def build_model() -> Any:
        return models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])

    async def build_pb() -> Any:
        return pb.CreateOrderRequest(user_id=123, items=[pb.CreateOrderRequestItems(product_id=456, quantity=2)])

    server_request = pb_request_of(pb)
    server_reply = models.Order(order_id=1, user_id=123, status=models.Status.pending, total=1.0)

    async def server_from_pb() -> Any:  # what the generated servicer does with the request
        return message_to_model(server_request, models.CreateOrderRequest)

    async def server_to_pb() -> Any:  # and with the handler's reply
        return model_to_message(server_reply, pb.Order)

    async def direct_to_pb() -> Any:  # what a generated field-by-field converter would do
        return pb.CreateOrderRequest(
            user_id=request.user_id,
            items=[pb.CreateOrderRequestItems(product_id=i.product_id, quantity=i.quantity) for i in request.items],
        )

    async def direct_from_pb() -> Any:
        return models.Order(order_id=reply.order_id, user_id=reply.user_id, status=reply.status, total=reply.total)

    old_to_pb, old_from_pb = _previous_conversion(request, reply, models.Order, pb.CreateOrderRequest)
    res = await c.interleaved_latency(
        {
            "build pb request": build_pb,
            "previous model_to_message (descriptor attributes read per call)": old_to_pb,
            "previous message_to_model (descriptor attributes read per call)": old_from_pb,
            "build pydantic request": build_model,
            "model_to_message (model_dump + compiled arguments)": to_pb,
            "message_to_model (compiled reader + model_validate)": from_pb,
            "server_from_pb: message_to_model(CreateOrderRequest)": server_from_pb,
            "server_to_pb: model_to_message(Order)": server_to_pb,
            "field-by-field to pb (hand-written)": direct_to_pb,
            "field-by-field from pb (hand-written)": direct_from_pb,
        },
        rounds=10,
        per_round=500,
        warmup=200,
    )
    return {name: round(c.summary(v)["p50"], 2) for name, v in res["samples"].items()}


def pb_request_of(pb: Any) -> Any:
    return pb.CreateOrderRequest(user_id=123, items=[pb.CreateOrderRequestItems(product_id=456, quantity=2)])


def _previous_conversion(request: Any, reply: Any, model_type: Any, message_type: Any) -> tuple[Any, Any]:
    """The plain-message conversion as runtime/messages.py did it before it kept a plan per
    descriptor: the same walk, reading the descriptor's attributes on every call."""
    from google.protobuf.descriptor import FieldDescriptor

    def repeated(field: Any) -> bool:
        is_repeated = getattr(field, "is_repeated", None)
        return bool(is_repeated) if is_repeated is not None else field.label == FieldDescriptor.LABEL_REPEATED

    def kwargs(data: Any, descriptor: Any) -> dict[str, Any]:
        fields = {f.json_name: f for f in descriptor.fields} | {f.name: f for f in descriptor.fields}
        out: dict[str, Any] = {}
        for key, value in data.items():
            field = fields[key]
            if value is None:
                continue
            sub = field.message_type
            if sub is not None:
                value = [kwargs(v, sub) for v in value] if repeated(field) else kwargs(value, sub)
            out[field.name] = value
        return out

    def read(message: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in message.DESCRIPTOR.fields:
            value = getattr(message, field.name)
            if repeated(field):
                out[field.json_name] = [read(v) for v in value] if field.message_type else list(value)
            elif field.message_type is not None or field.has_presence:
                if message.HasField(field.name):
                    out[field.json_name] = read(value) if field.message_type else value
            else:
                out[field.json_name] = value
        return out

    async def to_pb() -> Any:
        data = request.model_dump(mode="json", by_alias=True)
        return message_type(**kwargs(data, message_type.DESCRIPTOR))

    async def from_pb() -> Any:
        return model_type.model_validate(read(reply))

    return to_pb, from_pb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=100, help="calls per candidate per round")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="profile the generated client's calls")
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_grpc_client.json)")
    args = parser.parse_args()
    work = c.tempdir("bench-grpc-")
    try:
        data = asyncio.run(run(args, work))
        data["conversion_p50_us"] = asyncio.run(conversion_costs())
    finally:
        c.remove(work)
    print(
        f"gRPC unary CreateOrder: {args.rounds} rounds x {args.per_round} calls per candidate, interleaved "
        f"({data['seconds']} s); latency in microseconds"
    )
    c.print_latency(data["latency_us"], data["targets"], "raw")
    print("\nclient conversions alone, in process (p50 us):")
    print(c.table(["step", "p50 us"], [[k, v] for k, v in data["conversion_p50_us"].items()]))
    if data["client_profile"]:
        print(f"\n{data['client_profile']['profiler']} profile of 3000 client calls:")
        print(textwrap.indent(data["client_profile"]["text"][:8000], "  "))
    path = c.write_json("bench_grpc_client", data, args.json)
    print(f"\nfigures: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
