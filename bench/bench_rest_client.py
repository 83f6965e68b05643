"""Generated REST client vs raw httpx, against one generated FastAPI server (uvicorn subprocess).

The guide example is generated into a temp dir; its user-service runs as shipped
(`python -m user_service`) on 127.0.0.1 at a free port, and every candidate calls its idempotent
GET /users/{user_id} sequentially over one reused keep-alive connection:

- httpx          baseline: raw httpx.AsyncClient, raise_for_status(), .json()
- resilient      the generated runtime: order-service's ResilientHttpClient with the policy planned for
                 its REST link (settings.links.order_service_to_payment_provider_create_charge:
                 800 ms attempt, 2.7 s total, 3 tries), idempotent because the call is a GET
- httpx_deadline raw httpx doing the wrapper's per-attempt work except tenacity, breaker and bulkhead:
                 x-request-timeout-ms header, per-request httpx.Timeout, anyio.fail_after
- httpx_typed    raw httpx plus the same pydantic work as the typed client (request model dump, path
                 build, response model_validate_json): the fair baseline of the next one
- typed_client   a generated typed client method: `UserServiceClient.get_user(GetUserRequest)` of a
                 small spec where service `gateway` calls `user-service` GetUser over REST (planned:
                 800 ms attempt, 2.7 s total, 3 tries), pointed at the same server

Target (issue): resilience wrapping costs at most 10% at p50 (resilient / httpx <= 1.10).
`--decompose` adds candidates with one layer each: httpx+header (server-side deadline middleware),
httpx+fail_after, httpx+tenacity. Then a client-only breakdown (httpx.MockTransport, no network) of
what the wrapper adds per call, and with `--profile` a cProfile of 5000 raw and 5000 wrapped mock
calls, self time grouped by package.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import _common as c

USER_ID = 123


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import httpx

    guide = c.generate(c.GUIDE, work / "guide")
    spec = work / "gateway.yaml"
    spec.write_text(c.GATEWAY_SPEC, encoding="utf-8")
    gateway = c.generate(spec, work / "gateway")
    c.add_src(guide / "order-service")
    c.add_src(gateway / "gateway")
    from gateway.generated import models as gw_models
    from gateway.generated.clients import UserServiceClient
    from gateway.generated.settings import Settings as GatewaySettings
    from order_service.generated.clients import _http_policy
    from order_service.generated.runtime.http import HttpLimits, ResilientHttpClient
    from order_service.generated.settings import Settings as OrderSettings

    port = c.free_port()
    base = f"http://{c.HOST}:{port}"
    env = {"USER_SERVICE_HTTP_PORT": str(port), "USER_SERVICE_HTTP_HOST": c.HOST}
    with c.service_process(guide / "user-service", "user_service", env):
        c.wait_http(port)
        link = OrderSettings().links.order_service_to_payment_provider_create_charge
        policy = _http_policy(link, link, idempotent=True)
        raw = httpx.AsyncClient(base_url=base)
        resilient = ResilientHttpClient(
            base, name="user-service", limits=HttpLimits(link.max_connections, link.max_keepalive_connections)
        )
        typed = UserServiceClient(GatewaySettings(user_service_url=base))
        typed_raw = httpx.AsyncClient(base_url=base)
        path = f"/users/{USER_ID}"

        async def call_httpx() -> Any:
            r = await raw.get(path)
            r.raise_for_status()
            return r.json()

        async def call_resilient() -> Any:
            r = await resilient.request("GET", path, policy=policy)
            r.raise_for_status()
            return r.json()

        import anyio
        from order_service.generated.runtime import deadline

        async def call_httpx_deadline() -> Any:
            budget = deadline.bounded(policy.total_timeout_s)
            attempt_s = min(policy.attempt_timeout_s, budget)
            headers = httpx.Headers({deadline.DEADLINE_HEADER: deadline.header_value(attempt_s)})
            with anyio.fail_after(attempt_s):
                r = await raw.request("GET", path, headers=headers, timeout=httpx.Timeout(attempt_s))
            r.raise_for_status()
            return r.json()

        async def call_httpx_typed() -> Any:
            fields = gw_models.GetUserRequest(user_id=USER_ID).model_dump(mode="json", by_alias=True)
            r = await typed_raw.get("/users/{user_id}".replace("{user_id}", str(fields.pop("user_id"))))
            r.raise_for_status()
            return gw_models.User.model_validate_json(r.content)

        async def call_typed() -> Any:
            return await typed.get_user(gw_models.GetUserRequest(user_id=USER_ID))

        from order_service.generated.runtime.http import _is_retryable, _RetryAfterOrJitter, full_jitter
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay

        async def call_httpx_header() -> Any:  # only the deadline header (server-side middleware work)
            r = await raw.get(path, headers={deadline.DEADLINE_HEADER: "800"})
            r.raise_for_status()
            return r.json()

        async def call_httpx_fail_after() -> Any:  # only anyio.fail_after around the request
            with anyio.fail_after(policy.attempt_timeout_s):
                r = await raw.get(path)
            r.raise_for_status()
            return r.json()

        async def call_httpx_tenacity() -> Any:  # only the AsyncRetrying the wrapper builds per call
            retrying = AsyncRetrying(
                stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.total_timeout_s),
                wait=_RetryAfterOrJitter(full_jitter(policy.backoff_initial_s, policy.backoff_max_s)),
                retry=retry_if_exception(_is_retryable),
                reraise=True,
            )
            r = await retrying(raw.get, path)
            r.raise_for_status()
            return r.json()

        candidates = {
            "httpx": call_httpx,
            "resilient": call_resilient,
            "httpx_deadline": call_httpx_deadline,
            "httpx_typed": call_httpx_typed,
            "typed_client": call_typed,
        }
        if args.decompose:
            candidates.update(
                {
                    "httpx+header": call_httpx_header,
                    "httpx+fail_after": call_httpx_fail_after,
                    "httpx+tenacity": call_httpx_tenacity,
                }
            )
        assert (await call_resilient())["user_id"] == 1 and (await call_typed()).user_id == 1
        t0 = time.monotonic()
        result = await c.interleaved_latency(
            candidates, rounds=args.rounds, per_round=args.per_round, warmup=args.warmup
        )
        elapsed = time.monotonic() - t0
        report = c.latency_report(result, "httpx")
        # typed_client against its fair baseline (same pydantic work, no resilience)
        typed_vs = c.latency_report(
            {k: {n: result[k][n] for n in ("httpx_typed", "typed_client")} for k in result}, "httpx_typed"
        )["typed_client"]
        await raw.aclose()
        await resilient.aclose()
        await typed.aclose()
        await typed_raw.aclose()
    profile = await client_breakdown(args, policy, ResilientHttpClient, HttpLimits, link)
    return {
        "server": "guide user-service (generated FastAPI app, uvicorn subprocess as shipped), GET /users/{user_id}",
        "policy": {k: getattr(policy, k) for k in policy.__dataclass_fields__},
        "rounds": args.rounds,
        "per_round": args.per_round,
        "warmup": args.warmup,
        "seconds": round(elapsed, 1),
        "latency_us": report,
        "typed_client_vs_httpx_typed": typed_vs,
        "target": {
            "metric": "resilient p50 / httpx p50",
            "max": 1.10,
            "value": report["resilient"]["p50_ratio"],
            "met": report["resilient"]["p50_ratio"] <= 1.10,
        },
        "client_breakdown": profile,
    }


async def client_breakdown(
    args: argparse.Namespace, policy: Any, client_cls: Any, limits_cls: Any, link: Any
) -> dict[str, Any]:
    """Client-side cost only: the same calls against httpx.MockTransport (no socket, no server), so
    the difference is exactly the Python work the wrapper adds per call; then what it is made of."""
    import anyio
    import httpx
    from order_service.generated.runtime import deadline
    from order_service.generated.runtime.guards import Breaker, Bulkhead
    from order_service.generated.runtime.http import _RetryAfterOrJitter, full_jitter
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_before_delay

    body = b'{"user_id":1,"name":"x","email":"x"}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    raw = httpx.AsyncClient(base_url="http://bench.invalid", transport=httpx.MockTransport(handler))
    wrapped = client_cls(
        "http://bench.invalid",
        name="mock",
        transport=httpx.MockTransport(handler),
        limits=limits_cls(link.max_connections, link.max_keepalive_connections),
    )

    async def raw_call() -> Any:
        return (await raw.get("/users/123")).json()

    async def wrapped_call() -> Any:
        return (await wrapped.request("GET", "/users/123", policy=policy)).json()

    async def nothing() -> None:
        return None

    breaker = Breaker("b", failure_threshold=5, recovery_s=5, is_failure=lambda e: True)
    bulkhead = Bulkhead("b", 25)

    async def tenacity_only() -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(3) | stop_before_delay(2.7),
            wait=_RetryAfterOrJitter(full_jitter(0.1, 1.0)),
            retry=retry_if_exception(lambda e: False),
            reraise=True,
        )
        return await retrying(nothing)

    async def fail_after_only() -> None:
        with anyio.fail_after(0.8):
            await nothing()

    async def guards_only() -> None:
        with bulkhead.slot(), breaker.guard():
            await nothing()

    async def timeout_and_headers_only() -> None:
        h = httpx.Headers(None)
        h[deadline.DEADLINE_HEADER] = deadline.header_value(deadline.bounded(0.8))
        httpx.Timeout(0.8)

    async def bare() -> None:
        await nothing()

    parts = {
        "mock_httpx": raw_call,
        "mock_resilient": wrapped_call,
        "bare_await": bare,
        "tenacity_AsyncRetrying": tenacity_only,
        "anyio_fail_after": fail_after_only,
        "breaker+bulkhead": guards_only,
        "headers+deadline+Timeout": timeout_and_headers_only,
    }
    res = await c.interleaved_latency(parts, rounds=10, per_round=500, warmup=200)
    rep = {name: round(c.summary(v)["p50"], 2) for name, v in res["samples"].items()}
    breakdown = {"p50_us": rep, "added_by_wrapper_us": round(rep["mock_resilient"] - rep["mock_httpx"], 1)}
    if not args.profile:
        await raw.aclose()
        await wrapped.aclose()
        return breakdown

    # Where the time goes, by package: cProfile self time of 5000 raw and 5000 wrapped mock calls.
    # (cProfile inflates every function call; compare the two columns, not the absolute values.)
    import cProfile
    import pstats

    def by_package(call: Any) -> Any:
        async def profiled() -> dict[str, float]:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(5000):
                await call()
            prof.disable()
            totals: dict[str, float] = {}
            for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(prof).stats.items():
                key = _package(filename)
                totals[key] = totals.get(key, 0.0) + tottime
            return {k: round(v / 5000 * 1e6, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}

        return profiled()

    breakdown["profiler"] = "cProfile self time per call by package (us)"
    breakdown["profile"] = {"mock_httpx": await by_package(raw_call), "mock_resilient": await by_package(wrapped_call)}
    await raw.aclose()
    await wrapped.aclose()
    return breakdown


def _package(filename: str) -> str:
    """A short name for where a function lives: site-packages package, generated runtime file, stdlib."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/generated/runtime/" in filename:
        return "generated runtime/" + filename.rsplit("/", 1)[1]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    if "/lib/python3" in filename:
        return "stdlib/" + filename.rsplit("/", 1)[1]
    return Path(filename).name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=100, help="calls per candidate per round")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--decompose",
        action="store_true",
        help="add end-to-end candidates with one wrapper layer each (header, fail_after, tenacity)",
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile raw vs wrapped mock calls, by package")
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_rest_client.json)")
    args = parser.parse_args()
    work = c.tempdir("bench-rest-")
    try:
        data = asyncio.run(run(args, work))
    finally:
        c.remove(work)
    lat = data["latency_us"]
    print(
        f"REST GET /users/{{id}}: {args.rounds} rounds x {args.per_round} calls per candidate, interleaved "
        f"({data['seconds']} s); latency in microseconds"
    )
    c.print_latency(lat, {}, "httpx")
    tv = data["typed_client_vs_httpx_typed"]
    print(
        f"typed_client vs httpx_typed (same pydantic work): p50 ratio {tv['p50_ratio']:.3f}, "
        f"round-median {tv['round_p50_ratio_median']:.3f}, added {tv['p50_added_us']} us"
    )
    t = data["target"]
    print(f"target resilient/httpx p50 <= 1.10: {t['value']:.3f} -> {'MET' if t['met'] else 'NOT MET'}")
    b = data["client_breakdown"]
    print("\nclient-only cost per call (httpx.MockTransport, no socket; parts measured alone; p50 us):")
    print(c.table(["part", "p50 us"], [[k, v] for k, v in b["p50_us"].items()]))
    print(f"added by the wrapper (client side): {b['added_by_wrapper_us']} us")
    if "profile" in b:
        prof = b["profile"]
        keys = list(dict.fromkeys([*prof["mock_resilient"], *prof["mock_httpx"]]))[:18]
        print(f"\n{b['profiler']}, 5000 mock calls each:")
        print(
            c.table(
                ["where", "httpx", "resilient"],
                [[k, prof["mock_httpx"].get(k, 0.0), prof["mock_resilient"].get(k, 0.0)] for k in keys],
            )
        )
    path = c.write_json("bench_rest_client", data, args.json)
    print(f"\nfigures: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
