"""Planning and checking cost on dense call graphs, where the number of call paths explodes.

Two shapes, several sizes each, every size timed against the smallest of its shape in the same run:

- `dag N`: services s0..s{N-1}, each calling every later one (N*(N-1)/2 synchronous links, 2**(N-2)
  paths from s0 to the last), a web client calling s0;
- `layers L`: L layers of two services, each calling both services of the next layer (2**L paths),
  the web client calling both services of the first layer.

Each candidate is `resolve` + `build_plan` (everything `scaffold check` computes) of a spec built in
memory; the spec file's YAML parsing is left out. Rounds alternate the candidates (the order rotates),
and the median over rounds is reported. The findings are printed too: every size must report the same
kind of findings (a deep chain), with the depth growing with the size.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path
from typing import Any

import _common as c

from scaffold.plan.engine import build_plan
from scaffold.plan.model import Plan
from scaffold.spec.load import resolve
from scaffold.spec.yaml_source import Source

GET = {"http": {"method": "GET", "path": "/items/{item_id}"}, "request": "ItemRequest", "response": "Item"}


def _spec(services: list[str], links: list[tuple[str, str]], entries: list[str]) -> dict[str, Any]:
    obj = "object"
    return {
        "version": 1,
        "name": "dense",
        "messages": {
            "ItemRequest": {"schema": {"type": obj, "properties": {"item_id": {"type": "integer"}}}},
            "Item": {"schema": {"type": obj, "properties": {"name": {"type": "string"}}}},
        },
        "services": {name: {"operations": {"GetItem": GET}} for name in services},
        "externals": {"web": {"kind": "client"}},
        "interactions": [
            *({"from": "web", "to": e, "use_case": "user-facing", "operation": "GetItem"} for e in entries),
            *({"from": a, "to": b, "use_case": "user-facing", "operation": "GetItem"} for a, b in links),
        ],
    }


def dense_dag(n: int) -> dict[str, Any]:
    names = [f"s{i}" for i in range(n)]
    return _spec(names, [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]], [names[0]])


def layered(layers: int, width: int = 2) -> dict[str, Any]:
    grid = [[f"l{i}w{j}" for j in range(width)] for i in range(layers)]
    links = [(a, b) for upper, lower in itertools.pairwise(grid) for a in upper for b in lower]
    return _spec([name for row in grid for name in row], links, grid[0])


def plan_of(data: dict[str, Any]) -> Plan:
    return build_plan(resolve(Source(path="dense.yaml", data=data), Path(".")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dag", type=int, nargs="+", default=[5, 10, 20, 40, 80])
    parser.add_argument("--layers", type=int, nargs="+", default=[3, 6, 12, 24, 48, 96])
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_checks.json)")
    args = parser.parse_args()

    candidates = {f"dag {n}": dense_dag(n) for n in args.dag} | {f"layers {n}": layered(n) for n in args.layers}
    times: dict[str, list[float]] = {name: [] for name in candidates}
    findings: dict[str, list[str]] = {}
    names = list(candidates)
    plan_of(candidates[names[0]])  # warm-up: imports and caches are not part of the figures
    for r in range(args.rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            t0 = time.perf_counter()
            plan = plan_of(candidates[name])
            times[name].append(time.perf_counter() - t0)
            findings[name] = sorted({f"{f.rule}{f.numbers.get('depth', '')}" for f in plan.findings})

    rows, results = [], {}
    for name, data in candidates.items():
        shape = name.split()[0]
        baseline = next(n for n in names if n.startswith(shape))
        median = statistics.median(times[name])
        ratio = median / statistics.median(times[baseline])
        links = len(data["interactions"])
        results[name] = {"links": links, "median_s": median, "ratio": ratio, "findings": findings[name]}
        rows.append(
            [name, len(data["services"]), links, f"{median * 1000:.1f}", f"{ratio:.1f}x", ", ".join(findings[name])]
        )
    print(c.table(["graph", "services", "links", "median ms", "vs smallest", "findings (depth)"], rows))
    path = c.write_json("bench_checks", {"rounds": args.rounds, "results": results}, args.json)
    print(f"\nfigures: {path}")


if __name__ == "__main__":
    main()
