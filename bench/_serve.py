"""Start one REST server for bench_rest_service.py with explicit uvicorn options.

- `plain`: the naive FastAPI app a user writes by hand for the same route and model (one GET route,
  a pydantic return type, nothing else), which is the baseline;
- `generated:PACKAGE`: a generated service's `create_app()`, with the options given here instead of
  the ones its `__main__` picks, so each option can be measured alone.

Usage: python bench/_serve.py APP --port N [--loop asyncio|uvloop] [--http h11|httptools]
       [--no-access-log] [--orjson]
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel


class User(BaseModel):
    user_id: int
    name: str
    email: str


def plain_app(*, orjson: bool) -> Any:
    if orjson:
        from fastapi.responses import ORJSONResponse

        app = FastAPI(default_response_class=ORJSONResponse)
    else:
        app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> User:
        return User(user_id=1, name="x", email="x")

    return app


def generated_app(package: str) -> Any:
    api = importlib.import_module(f"{package}.generated.api")
    return api.create_app()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("app", help="plain or generated:PACKAGE")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--http", default="h11", choices=["h11", "httptools"])
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--orjson", action="store_true", help="plain app only: ORJSONResponse as default class")
    args = parser.parse_args()
    app = plain_app(orjson=args.orjson) if args.app == "plain" else generated_app(args.app.split(":", 1)[1])
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, loop=args.loop, http=args.http, access_log=not args.no_access_log
    )


if __name__ == "__main__":
    main()
