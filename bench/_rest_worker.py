"""One client of bench_rest_service.py, in its own process so that each candidate can run on its own
event loop (asyncio or uvloop) while the driver interleaves them.

Protocol on stdin/stdout, one line each: `run N` makes N sequential calls and answers with a JSON
list of their latencies in microseconds; `quit` (or end of input) closes the client and exits.

Clients:
- httpx   raw httpx.AsyncClient: get, raise_for_status(), .json() (what a user writes by hand)
- typed   the generated `UserServiceClient.get_user(GetUserRequest)` of the `gateway` service
          (needs the gateway's src/ on PYTHONPATH), with its planned policy
- typed_dict  the same generated client's policy and ResilientHttpClient, but decoding the reply as
          the client did before (`response.json()` then `model_validate`): the JSON fast path alone

Usage: python bench/_rest_worker.py CLIENT --base URL [--loop asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

USER_ID = 123


async def make_client(kind: str, base: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[None]]]:
    if kind == "httpx":
        import httpx

        raw = httpx.AsyncClient(base_url=base)
        path = f"/users/{USER_ID}"

        async def call_httpx() -> Any:
            r = await raw.get(path)
            r.raise_for_status()
            return r.json()

        return call_httpx, raw.aclose
    from gateway.generated import models
    from gateway.generated.clients import UserServiceClient
    from gateway.generated.settings import Settings

    typed = UserServiceClient(Settings(user_service_url=base))
    if kind == "typed":

        async def call_typed() -> Any:
            return await typed.get_user(models.GetUserRequest(user_id=USER_ID))

        return call_typed, typed.aclose
    if kind == "typed_dict":
        from urllib.parse import quote

        http = typed._http
        policy = typed._policies["get_user"]

        async def call_typed_dict() -> Any:
            fields = models.GetUserRequest(user_id=USER_ID).model_dump(mode="json", by_alias=True)
            path = "/users/{user_id}".replace("{user_id}", quote(str(fields.pop("user_id", "")), safe=""))
            response = await http.request(
                "GET", path, policy=policy, params={k: str(v) for k, v in fields.items() if v is not None}
            )
            response.raise_for_status()
            return models.User.model_validate(response.json())

        return call_typed_dict, typed.aclose
    raise SystemExit(f"unknown client {kind!r}")


async def serve_commands(kind: str, base: str) -> None:
    call, close = await make_client(kind, base)
    clock = time.perf_counter_ns
    try:
        while True:
            line = sys.stdin.readline()  # blocks the loop between rounds on purpose: nothing else runs
            if not line or line.strip() == "quit":
                return
            count = int(line.split()[1])
            latencies = []
            for _ in range(count):
                t0 = clock()
                await call()
                latencies.append((clock() - t0) / 1000)
            sys.stdout.write(json.dumps(latencies) + "\n")
            sys.stdout.flush()
    finally:
        await close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("client", choices=["httpx", "typed", "typed_dict"])
    parser.add_argument("--base", required=True)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve_commands(args.client, args.base))
    else:
        asyncio.run(serve_commands(args.client, args.base))


if __name__ == "__main__":
    main()
