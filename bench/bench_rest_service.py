"""A generated REST service pair (generated server + generated client) vs a plain FastAPI + httpx pair.

Every candidate is one client process calling one server process, GET /users/{user_id}, sequential
calls over one keep-alive connection. Each client runs in its own process (bench/_rest_worker.py) so
that it can have its own event loop; the driver interleaves the candidates round by round (one
candidate runs at a time, the order rotates and reverses), so drift hits every candidate alike.

Pairs (the target: generated p50 < plain p50):
- plain           baseline: the naive hand-written FastAPI app (bench/_serve.py `plain`) on uvicorn as
                  `pip install fastapi uvicorn` gives it (asyncio loop, h11 parser), called by raw
                  httpx on asyncio
- plain_standard  the same plain pair with uvicorn[standard]'s uvloop and httptools on the server
- generated       the guide's user-service as shipped (`python -m user_service`), called by the
                  generated typed client `UserServiceClient.get_user` on the event loop that generated
                  services run on (their __main__ picks uvloop)

Server options alone (the generated app, raw httpx client on asyncio; `--options`):
  gen_h11_asyncio (the previous start-up), gen_uvloop, gen_httptools, gen_uvloop_httptools,
  gen_uvloop_httptools_nolog, and plain_orjson (the plain app with ORJSONResponse as default class).
Client options alone (server: generated as shipped; `--options`):
  typed_asyncio (client on the asyncio loop), typed_dict (response.json() + model_validate instead
  of model_validate_json), httpx_uvloop (raw httpx on uvloop).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common as c

SERVE = str(c.BENCH / "_serve.py")
WORKER = str(c.BENCH / "_rest_worker.py")


@dataclass(frozen=True)
class Server:
    """How to start one server: the generated entry point as shipped, or _serve.py with options."""

    app: str  # "plain", "generated" (bench/_serve.py) or "shipped" (python -m user_service)
    loop: str = "asyncio"
    http: str = "h11"
    access_log: bool = True
    orjson: bool = False


@dataclass(frozen=True)
class Candidate:
    server: Server
    client: str  # httpx | typed | typed_dict (bench/_rest_worker.py)
    loop: str  # the client's event loop


PLAIN = Server("plain")
SHIPPED = Server("shipped")
PAIRS = {
    "plain": Candidate(PLAIN, "httpx", "asyncio"),
    "plain_standard": Candidate(Server("plain", "uvloop", "httptools"), "httpx", "asyncio"),
    "generated": Candidate(SHIPPED, "typed", "uvloop"),
}
OPTIONS = {
    "gen_h11_asyncio": Candidate(Server("generated"), "httpx", "asyncio"),
    "gen_uvloop": Candidate(Server("generated", loop="uvloop"), "httpx", "asyncio"),
    "gen_httptools": Candidate(Server("generated", http="httptools"), "httpx", "asyncio"),
    "gen_uvloop_httptools": Candidate(Server("generated", "uvloop", "httptools"), "httpx", "asyncio"),
    "gen_uvloop_httptools_nolog": Candidate(Server("generated", "uvloop", "httptools", False), "httpx", "asyncio"),
    "plain_orjson": Candidate(Server("plain", orjson=True), "httpx", "asyncio"),
    "typed_asyncio": Candidate(SHIPPED, "typed", "asyncio"),
    "typed_dict": Candidate(SHIPPED, "typed_dict", "uvloop"),
    "httpx_uvloop": Candidate(SHIPPED, "httpx", "uvloop"),
}


def server_command(server: Server, port: int) -> list[str]:
    if server.app == "shipped":
        return [c.PYTHON, "-m", "user_service"]
    app = "plain" if server.app == "plain" else "generated:user_service"
    command = [c.PYTHON, SERVE, app, "--port", str(port), "--loop", server.loop, "--http", server.http]
    if not server.access_log:
        command.append("--no-access-log")
    if server.orjson:
        command.append("--orjson")
    return command


class Worker:
    """A client process driven over its stdin/stdout (bench/_rest_worker.py), and its server's pid."""

    def __init__(self, proc: Any, log: Path, server_pid: int) -> None:
        self.proc = proc
        self.log = log
        self.pids = (proc.pid, server_pid)

    def run(self, count: int) -> list[float]:
        self.proc.stdin.write(f"run {count}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"client worker {self.proc.args} exited:\n{tail}")
        return [float(x) for x in json.loads(line)]


def schedstat(pid: int) -> tuple[int, int]:
    """Nanoseconds on a CPU and waiting for one (run queue), summed over the threads of a process
    (/proc/PID/task/*/schedstat, see the kernel's Documentation/scheduler/sched-stats.rst)."""
    cpu = wait = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            fields = (task / "schedstat").read_text().split()
            cpu += int(fields[0])
            wait += int(fields[1])
    return cpu, wait


def interleave(workers: dict[str, Worker], *, rounds: int, per_round: int, warmup: int) -> dict[str, Any]:
    """Same rotation as _common.interleaved_latency, across processes: one candidate at a time.
    Also the CPU time and the run-queue wait of the client and server processes per call, per round."""
    names = list(workers)
    for name in names:
        workers[name].run(warmup)
    samples: dict[str, list[float]] = {name: [] for name in names}
    round_p50: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, dict[str, list[float]]] = {name: {"client": [], "server": [], "wait": []} for name in names}
    for r in range(rounds):
        for name in c.round_order(names, r):
            worker = workers[name]
            before = [schedstat(pid) for pid in worker.pids]
            this_round = worker.run(per_round)
            after = [schedstat(pid) for pid in worker.pids]
            samples[name].extend(this_round)
            round_p50[name].append(c.percentile(this_round, 50))
            (client_cpu, client_wait), (server_cpu, server_wait) = (
                (a[0] - b[0], a[1] - b[1]) for a, b in zip(after, before, strict=True)
            )
            cpu[name]["client"].append(client_cpu / per_round / 1000)
            cpu[name]["server"].append(server_cpu / per_round / 1000)
            cpu[name]["wait"].append((client_wait + server_wait) / per_round / 1000)
    return {"samples": samples, "round_p50": round_p50, "cpu": cpu}


def cpu_report(cpu: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Median over rounds of the per-call CPU time (client, server) and run-queue wait, in us."""
    out = {}
    for name, parts in cpu.items():
        row = {part: round(statistics.median(values), 1) for part, values in parts.items()}
        row["cpu"] = round(row["client"] + row["server"], 1)
        out[name] = row
    return out


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    guide = c.generate(c.GUIDE, work / "guide")
    spec = work / "gateway.yaml"
    spec.write_text(c.GATEWAY_SPEC, encoding="utf-8")
    gateway = c.generate(spec, work / "gateway")
    user_src = str(guide / "user-service" / "src")
    gateway_src = str(gateway / "gateway" / "src")
    candidates = {**PAIRS, **(OPTIONS if args.options else {})}
    if args.only:
        candidates = {name: candidates[name] for name in ["plain", *args.only] if name in candidates}
    with contextlib.ExitStack() as stack:
        ports: dict[Server, int] = {}
        servers: dict[Server, Any] = {}
        for server in dict.fromkeys(cand.server for cand in candidates.values()):
            port = c.free_port()
            env = {"PYTHONPATH": user_src, "USER_SERVICE_HTTP_PORT": str(port), "USER_SERVICE_HTTP_HOST": c.HOST}
            servers[server] = stack.enter_context(
                c.process(server_command(server, port), env=env, cwd=guide / "user-service")
            )
            ports[server] = port
        for port in ports.values():
            c.wait_http(port)
        workers = {}
        for name, cand in candidates.items():
            command = [c.PYTHON, WORKER, cand.client, "--base", f"http://{c.HOST}:{ports[cand.server]}"]
            proc = stack.enter_context(
                c.process(
                    [*command, "--loop", cand.loop],
                    env={"PYTHONPATH": gateway_src},
                    pipes=True,
                    log=work / f"client-{name}.log",
                )
            )
            workers[name] = Worker(proc, work / f"client-{name}.log", servers[cand.server].pid)
        load_before = c.machine()["loadavg_1_5_15"]
        t0 = time.monotonic()
        result = interleave(workers, rounds=args.rounds, per_round=args.per_round, warmup=args.warmup)
        elapsed = time.monotonic() - t0
    report = c.latency_report(result, "plain")
    cpu = cpu_report(result["cpu"])
    gen = report["generated"]
    per_round = [g / p for g, p in zip(result["round_p50"]["generated"], result["round_p50"]["plain"], strict=True)]
    return {
        "what": "GET /users/{user_id}: one client process -> one server process per candidate, sequential calls",
        "candidates": {
            name: {
                "server": cand.server.__dict__,
                "client": cand.client,
                "client_loop": cand.loop,
            }
            for name, cand in candidates.items()
        },
        "rounds": args.rounds,
        "per_round": args.per_round,
        "warmup": args.warmup,
        "seconds": round(elapsed, 1),
        "loadavg_before": load_before,
        "latency_us": report,
        "per_call_us": cpu,
        "generated_faster_in_rounds": f"{sum(1 for x in per_round if x < 1)}/{len(per_round)}",
        "target": {
            "metric": "generated p50 / plain p50",
            "max": 1.0,
            "value": gen["p50_ratio"],
            "round_median": gen["round_p50_ratio_median"],
            "met": gen["p50_ratio"] < 1.0 and statistics.median(per_round) < 1.0,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=100, help="calls per candidate per round")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--options", action="store_true", help="add the one-option-at-a-time candidates")
    parser.add_argument("--only", nargs="+", help="run only these candidates (and the baseline)")
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_rest_service.json)")
    args = parser.parse_args()
    work = c.tempdir("bench-rest-service-")
    try:
        data = run(args, work)
    finally:
        c.remove(work)
    print(
        f"REST pair GET /users/{{id}}: {args.rounds} rounds x {args.per_round} calls per candidate, interleaved "
        f"({data['seconds']} s, load {data['loadavg_before']}); latency in microseconds"
    )
    c.print_latency(data["latency_us"], {}, "plain")
    print("\nper call, median over rounds (us): CPU time of the client and server processes, and their run-queue wait")
    print(
        c.table(
            ["candidate", "client cpu", "server cpu", "cpu", "run-queue wait"],
            [[n, r["client"], r["server"], r["cpu"], r["wait"]] for n, r in data["per_call_us"].items()],
        )
    )
    t = data["target"]
    print(
        f"target generated/plain p50 < 1: {t['value']:.3f} (round-median {t['round_median']:.3f}, generated "
        f"faster in {data['generated_faster_in_rounds']} rounds) -> {'MET' if t['met'] else 'NOT MET'}"
    )
    path = c.write_json("bench_rest_service", data, args.json)
    print(f"\nfigures: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
