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
- caller         the generated runtime as the client uses it: the link's UnaryGuard
                 (ResilientGrpcCaller.unary_guard: deadline, breaker, bulkhead) around the stub on the
                 generated channel, with the planned policy of the link
- caller_spin    caller plus 8 us of busy-waiting (4 before the call, 4 after): what that much plain CPU
                 work costs end to end on this machine, to compare with the conversions' cost
- caller_conv    caller plus the client's conversions (build the pydantic request, the message writer
                 and model reader of runtime/messages.py), without the client object
- client         the generated user-service's OrderServiceClient.create_order(models.CreateOrderRequest):
                 caller + pydantic <-> protobuf conversion (runtime/messages.py) on request and reply

Then throughput: raw, raw_configured, caller and client each make --tp-calls calls with
--concurrency calls in flight (one channel each), in interleaved rounds; calls/s per round, and the
process's CPU time per call (time.process_time: every thread, grpc's own too).

Targets: the generated client costs at most 5% at p50 over raw stub calls (client / raw <= 1.05),
and keeps at least 95% of raw's throughput (client / raw calls/s >= 0.95); the resilience wrapping
alone is caller / raw. The server converts the same way for every candidate; its conversions are
measured in process (server_* rows of the conversion table).
`--profile` adds a pyinstrument/cProfile profile of the client's Python work per call.
`--instructions` adds the CPU instructions per call of raw, caller and client against a stub that
answers at once (no network, no server), counted by valgrind (callgrind): unlike times, these do not
depend on the load of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
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
        guard = caller.unary_guard(policy)  # what the client keeps per unary method
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
            return await guard.call(caller_stub.CreateOrder, pb_request())

        async def call_client() -> Any:
            return await client.create_order(
                models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
            )

        from user_service.generated.runtime.messages import message_writer, model_reader

        write_request = message_writer(models.CreateOrderRequest, pb.CreateOrderRequest)
        read_reply = model_reader(pb.Order, models.Order)

        def spin(ns: int) -> None:
            end = time.perf_counter_ns() + ns
            while time.perf_counter_ns() < end:
                pass

        async def call_caller_spin() -> Any:
            spin(4000)
            reply = await guard.call(caller_stub.CreateOrder, pb_request())
            spin(4000)
            return reply

        async def call_caller_conv() -> Any:
            request = models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
            return read_reply(await guard.call(caller_stub.CreateOrder, write_request(request)))

        candidates = {
            "raw": call_raw,
            "raw_again": call_raw_again,
            "raw_timeout": call_raw_timeout,
            "raw_configured": call_configured,
            "caller": call_caller,
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
        tp_candidates = {name: candidates[name] for name in ("raw", "raw_configured", "caller", "client")}
        throughput = await interleaved_throughput(
            tp_candidates, rounds=args.tp_rounds, calls=args.tp_calls, concurrency=args.concurrency
        )
        profile = await profile_client(call_client) if args.profile else None
        instructions = count_instructions(guide / "user-service" / "src") if args.instructions else None
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
        "throughput": throughput,
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
        "throughput_targets": {
            "client": {
                "metric": "client calls/s / raw calls/s",
                "min": 0.95,
                "value": throughput["client"]["ratio"],
                "met": throughput["client"]["ratio"] >= 0.95,
            },
        },
        "client_profile": profile,
        "instructions_per_call": instructions,
    }


async def interleaved_throughput(
    candidates: dict[str, Any], *, rounds: int, calls: int, concurrency: int
) -> dict[str, dict[str, float]]:
    """`calls` calls per candidate per round, `concurrency` of them in flight, candidates in the
    rotating order of the latency rounds: calls/s (median over rounds), its ratio to the first
    candidate (of the medians, and the median of the per-round ratios), CPU us per call."""
    names = list(candidates)
    rates: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}

    async def worker(call: Any, count: int) -> None:
        for _ in range(count):
            await call()

    share = [calls // concurrency + (1 if i < calls % concurrency else 0) for i in range(concurrency)]
    for name in names:  # warm-up at this concurrency
        await asyncio.gather(*(worker(candidates[name], n // 4 + 1) for n in share))
    for r in range(rounds):
        for name in c.round_order(names, r):
            cpu0, t0 = time.process_time(), time.perf_counter()
            await asyncio.gather(*(worker(candidates[name], n) for n in share))
            wall, spent = time.perf_counter() - t0, time.process_time() - cpu0
            rates[name].append(calls / wall)
            cpu[name].append(spent / calls * 1e6)
    base = names[0]
    out: dict[str, dict[str, float]] = {}
    for name in names:
        per_round = [a / b for a, b in zip(rates[name], rates[base], strict=True)]
        out[name] = {
            "calls_per_s": round(statistics.median(rates[name]), 1),
            "ratio": round(statistics.median(rates[name]) / statistics.median(rates[base]), 3),
            "round_ratio_median": round(statistics.median(per_round), 3),
            "cpu_us_per_call": round(statistics.median(cpu[name]), 1),
        }
    return out


FAKE_CANDIDATES = ("raw", "caller", "client")


def count_instructions(src: Path, calls: int = 2000) -> dict[str, int] | None:
    """Instructions per call of each FAKE_CANDIDATES in a child process under callgrind: the count
    of `calls` calls minus the count of none (start-up, imports and warm-up)."""
    import re
    import shutil
    import subprocess

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("--instructions: valgrind is not installed, skipped", file=sys.stderr)
        return None

    def count(candidate: str, n: int) -> int:
        command = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", c.PYTHON, __file__]
        command += ["--fake", candidate, "--fake-src", str(src), "--fake-calls", str(n)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=900)
        return int(re.findall(r"Collected : (\d+)", done.stderr)[-1])

    return {name: (count(name, calls) - count(name, 0)) // calls for name in FAKE_CANDIDATES}


async def fake_calls(src: str, candidate: str, calls: int) -> None:
    """`calls` calls of one candidate against a stub that answers at once (the child of --instructions)."""
    sys.path.insert(0, src)
    from user_service.generated import models
    from user_service.generated.clients import OrderServiceClient
    from user_service.generated.proto import order_service_pb2 as pb
    from user_service.generated.runtime.grpc import ResilientGrpcCaller
    from user_service.generated.settings import Settings

    reply = pb.Order(order_id=1, user_id=123, status="pending", total=1.0)

    class Stub:
        async def CreateOrder(self, request: Any, timeout: float | None = None) -> Any:
            return reply

    stub = Stub()
    client = OrderServiceClient(Settings(order_service_target="127.0.0.1:9"))
    client._stub_instance = stub
    if candidate == "caller":  # (only the caller needs unary_guard: the client also runs on older runtimes)
        guard = ResilientGrpcCaller(name="order-service").unary_guard(client._policies["create_order"])

    def pb_request() -> Any:
        return pb.CreateOrderRequest(user_id=123, items=[pb.CreateOrderRequestItems(product_id=456, quantity=2)])

    async def raw() -> Any:
        return await stub.CreateOrder(pb_request(), timeout=3.0)

    async def caller() -> Any:
        return await guard.call(stub.CreateOrder, pb_request())

    async def call_client() -> Any:
        return await client.create_order(
            models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
        )

    call = {"raw": raw, "caller": caller, "client": call_client}[candidate]
    for _ in range(50 + calls):
        await call()


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
    from user_service.generated.runtime.messages import (
        message_to_model,
        message_writer,
        model_reader,
        model_to_message,
        to_message,
    )

    request = models.CreateOrderRequest(user_id=123, items=[models.Item(product_id=456, quantity=2)])
    reply = pb.Order(order_id=1, user_id=1, status="pending", total=1.0)
    write_request = message_writer(models.CreateOrderRequest, pb.CreateOrderRequest)
    read_reply = model_reader(pb.Order, models.Order)

    async def dumped_to_pb() -> Any:  # the 0.4.0 way: model_dump, then the compiled arguments
        return to_message(request.model_dump(mode="json", by_alias=True, exclude_none=True), pb.CreateOrderRequest)

    async def writer() -> Any:
        return write_request(request)

    async def reader() -> Any:
        return read_reply(reply)

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
            "model_dump + compiled arguments (the previous model_to_message)": dumped_to_pb,
            "model_to_message (compiled writer from the attributes)": to_pb,
            "message_to_model (compiled reader + model_validate)": from_pb,
            "message_writer(...) as the client keeps it": writer,
            "model_reader(...) as the client keeps it (validator called directly)": reader,
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
    parser.add_argument("--tp-rounds", type=int, default=20, help="throughput rounds")
    parser.add_argument("--tp-calls", type=int, default=240, help="calls per candidate per throughput round")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight in the throughput rounds")
    parser.add_argument("--profile", action="store_true", help="profile the generated client's calls")
    parser.add_argument("--instructions", action="store_true", help="count instructions per call (valgrind)")
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_grpc_client.json)")
    parser.add_argument("--fake", choices=FAKE_CANDIDATES, help=argparse.SUPPRESS)
    parser.add_argument("--fake-src", help=argparse.SUPPRESS)
    parser.add_argument("--fake-calls", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake:
        asyncio.run(fake_calls(args.fake_src, args.fake, args.fake_calls))
        return
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
    print(f"\nthroughput: {args.tp_rounds} rounds x {args.tp_calls} calls per candidate, {args.concurrency} in flight")
    tp = data["throughput"]
    print(
        c.table(
            ["candidate", "calls/s", "/raw", "round-median ratio", "CPU us/call"],
            [
                [n, t["calls_per_s"], f"{t['ratio']:.3f}", f"{t['round_ratio_median']:.3f}", t["cpu_us_per_call"]]
                for n, t in tp.items()
            ],
        )
    )
    for t in data["throughput_targets"].values():
        print(f"target {t['metric']} >= {t['min']:.2f}: {t['value']:.3f} -> {'MET' if t['met'] else 'NOT MET'}")
    if data["instructions_per_call"]:
        counts = data["instructions_per_call"]
        print("\ninstructions per call against a stub that answers at once (callgrind):")
        print(
            c.table(["candidate", "instructions", "over raw"], [[k, v, v - counts["raw"]] for k, v in counts.items()])
        )
    print("\nclient conversions alone, in process (p50 us):")
    print(c.table(["step", "p50 us"], [[k, v] for k, v in data["conversion_p50_us"].items()]))
    if data["client_profile"]:
        print(f"\n{data['client_profile']['profiler']} profile of 3000 client calls:")
        print(textwrap.indent(data["client_profile"]["text"][:8000], "  "))
    path = c.write_json("bench_grpc_client", data, args.json)
    print(f"\nfigures: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
