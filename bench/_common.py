"""Shared helpers of the benchmarks: generation into a temp dir, server subprocesses, interleaved
rounds, percentiles, tables and JSON output. Plain standard library (plus what the venv has)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = sys.executable
SCAFFOLD = str(Path(PYTHON).with_name("scaffold"))
GUIDE = ROOT / "specs" / "examples" / "guide.yaml"
HOST = "127.0.0.1"  # every byte of traffic stays on loopback

# A gateway that calls user-service's GetUser over REST: the same messages and path as the guide, so
# its generated typed client `UserServiceClient.get_user` can call the guide's user-service.
GATEWAY_SPEC = """\
version: 1
name: benchrest
description: A gateway that calls user-service's GetUser over REST (same messages and path as the guide).
messages:
  GetUserRequest:
    schema: {type: object, properties: {user_id: {type: integer}}, required: [user_id]}
  User:
    schema:
      type: object
      properties: {user_id: {type: integer}, name: {type: string}, email: {type: string}}
      required: [user_id, name, email]
services:
  gateway:
    operations:
      GetProfile: {request: GetUserRequest, response: User, http: {method: GET, path: "/profiles/{user_id}"}}
  user-service:
    operations:
      GetUser: {request: GetUserRequest, response: User, http: {method: GET, path: "/users/{user_id}"}}
externals:
  web-app: {kind: client}
interactions:
  - {from: web-app, to: gateway, use_case: user-facing, operation: GetProfile}
  - {from: gateway, to: user-service, use_case: user-facing, operation: GetUser, within: GetProfile}
"""

KEY_PACKAGES = (
    "scaffold-services",
    "copier",
    "jinja2",
    "datamodel-code-generator",
    "ruff",
    "grpcio",
    "grpcio-tools",
    "protobuf",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "anyio",
    "pydantic",
    "tenacity",
    "circuitbreaker",
)


def machine() -> dict[str, Any]:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    for optional in ("uvloop", "httptools", "orjson"):
        try:
            versions[optional] = metadata.version(optional)
        except metadata.PackageNotFoundError:
            versions[optional] = "not installed"
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
    }


def free_port() -> int:
    """A free TCP port on loopback (bind to 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def generate(spec: Path, out: Path) -> Path:
    """`scaffold generate SPEC -o OUT` (the CLI, as a user runs it); return OUT."""
    subprocess.run([SCAFFOLD, "generate", str(spec), "-o", str(out)], check=True, capture_output=True, timeout=300)
    return out


def add_src(service_dir: Path) -> None:
    """Make a generated service's package importable in this process."""
    src = str(service_dir / "src")
    if src not in sys.path:
        sys.path.insert(0, src)


@contextlib.contextmanager
def service_process(service_dir: Path, module: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run `python -m MODULE` of a generated service (its own __main__, as shipped) and stop it after."""
    with process([PYTHON, "-m", module], cwd=service_dir, env={**env, "PYTHONPATH": str(service_dir / "src")}) as proc:
        yield proc


@contextlib.contextmanager
def process(
    command: list[str], *, env: dict[str, str], cwd: Path | None = None, pipes: bool = False, log: Path | None = None
) -> Iterator[subprocess.Popen[Any]]:
    """Run a command with extra environment variables and stop it after; `pipes` gives it text stdin
    and stdout to talk to. stderr goes to `log` or is discarded (access logs must not fill a pipe)."""
    with contextlib.ExitStack() as stack:
        stderr = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stderr=stderr,
            text=pipes,
        )
        try:
            yield proc
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def wait_http(port: int, path: str = "/healthz", timeout_s: float = 30.0) -> None:
    """Poll until GET path answers 200 (bounded)."""
    import httpx

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            if httpx.get(f"http://{HOST}:{port}{path}", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no HTTP server on {HOST}:{port} after {timeout_s}s")


def wait_grpc(port: int, timeout_s: float = 30.0) -> None:
    """Wait until the gRPC health service reports SERVING (bounded)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with grpc.insecure_channel(f"{HOST}:{port}") as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
        time.sleep(0.1)
    raise RuntimeError(f"no gRPC server on {HOST}:{port} after {timeout_s}s")


# --- statistics -----------------------------------------------------------------------------------


def round_order(names: list[str], r: int) -> list[str]:
    """The order of the candidates in round ``r``: rotated each round and reversed every other
    cycle, so no candidate always runs first or right after the same neighbour."""
    shift = r % len(names)
    order = names[shift:] + names[:shift]
    if (r // len(names)) % 2:
        order.reverse()
    return order


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank-with-interpolation percentile (q in 0..100) of a non-empty list."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


async def interleaved_latency(
    candidates: dict[str, Callable[[], Awaitable[Any]]],
    *,
    rounds: int,
    per_round: int,
    warmup: int,
) -> dict[str, Any]:
    """Call each candidate `per_round` times per round, rotating the order every round so that no
    candidate always runs first or last; drift (other load on the machine) then hits every candidate
    alike. Returns every latency in microseconds and each round's p50 per candidate."""
    names = list(candidates)
    for name in names:  # warm-up: connections open, caches and code paths hot
        for _ in range(warmup):
            await candidates[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    round_p50: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter_ns
    for r in range(rounds):
        for name in round_order(names, r):
            call = candidates[name]
            this_round = []
            for _ in range(per_round):
                t0 = clock()
                await call()
                this_round.append((clock() - t0) / 1000)
            samples[name].extend(this_round)
            round_p50[name].append(percentile(this_round, 50))
    return {"samples": samples, "round_p50": round_p50}


def latency_report(result: dict[str, Any], baseline: str) -> dict[str, Any]:
    """p50/p99 per candidate and ratios to the baseline: of the pooled p50/p99, and the median of the
    per-round p50 ratios (each round's candidates ran back to back, so this cancels slow drift)."""
    out: dict[str, Any] = {}
    base = summary(result["samples"][baseline])
    base_rounds = result["round_p50"][baseline]
    for name, values in result["samples"].items():
        s = summary(values)
        per_round = [c / b for c, b in zip(result["round_p50"][name], base_rounds, strict=True)]
        out[name] = {
            **{k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()},
            "p50_ratio": round(s["p50"] / base["p50"], 3),
            "p99_ratio": round(s["p99"] / base["p99"], 3),
            "round_p50_ratio_median": round(statistics.median(per_round), 3),
            "round_p50_ratio_min_max": [round(min(per_round), 3), round(max(per_round), 3)],
            "p50_added_us": round(s["p50"] - base["p50"], 1),
        }
    return out


def time_process(command: list[str], *, cwd: Path | None = None, timeout: float = 300) -> float:
    """Wall time of one whole process, in seconds (fails loudly if the command fails)."""
    t0 = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, timeout=timeout, check=False)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    return elapsed


# --- output ---------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(c.rjust(w) if index and _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=False))
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("x", "", 1).replace("-", "", 1).replace("%", "", 1).isdigit()


def write_json(name: str, data: dict[str, Any], path: str | None = None) -> Path:
    target = Path(path) if path else RESULTS / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(), **data}
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return target


def tempdir(prefix: str) -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix=prefix))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def print_latency(latency_us: dict[str, dict[str, Any]], targets: dict[str, dict[str, Any]], baseline: str) -> None:
    """The latency table of an interleaved run and whether each target was met."""
    rows = [
        [
            name,
            s["n"],
            s["p50"],
            s["p99"],
            f"{s['p50_ratio']:.3f}",
            f"{s['p99_ratio']:.3f}",
            f"{s['round_p50_ratio_median']:.3f}",
            s["p50_added_us"],
        ]
        for name, s in latency_us.items()
    ]
    headers = ["candidate", "n", "p50", "p99", f"p50/{baseline}", f"p99/{baseline}", "round-median p50 ratio"]
    print(table([*headers, "p50 added us"], rows))
    for t in targets.values():
        print(f"target {t['metric']} <= {t['max']:.2f}: {t['value']:.3f} -> {'MET' if t['met'] else 'NOT MET'}")
