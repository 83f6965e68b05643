"""Generation cost, whole process, interleaved in rounds.

(a) `scaffold generate specs/examples/guide.yaml -o DIR` (4 services: copier render, datamodel-codegen
    models, protoc, ruff) vs one plain `python -m copier copy --defaults --data-file SLICE.yml
    templates/service DIR` of one service (the guide's order-service slice of the plan, the largest,
    built with scaffold.plan.services.service_slices). Target: at most 1x.
    `python -c pass` and `python -c "import copier"` run in the same rounds as reference floors.
(b) `scaffold generate` of a synthetic spec of 50 services vs 5 services (groups of five: an edge
    service called over REST by a web app, calling a catalog over REST, calling a pricing service over
    gRPC; a queue to a worker and a stream to a stats service). Target: at most 3x.
(c) `scaffold update DIR --spec guide.yaml` of the whole guide system (4 services, committed in git, at
    the installed template version, spec unchanged) vs the N plain `copier update --trust` a user runs
    in the service folders, one after the other (their times summed). Each run gets its own copy of
    the repository (the copy is not timed). Target: at most 0.5x.
(d) where the time goes: one in-process run per spec (in a fresh child process) with a timer around
    each pipeline stage.

Subprocess timing rather than hyperfine, so that candidates alternate within every round
(hyperfine runs all repetitions of one command, then the next). Output goes to a temp dir on the
same filesystem as /tmp; each output dir is removed between runs (not timed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import _common as c


def synthetic_spec(groups: int) -> dict[str, Any]:
    """A valid spec of 5 * groups services; `scaffold check` finds no errors and no warnings."""
    obj = "object"
    messages = {
        "ItemRequest": {
            "schema": {"type": obj, "properties": {"item_id": {"type": "integer"}}, "required": ["item_id"]}
        },
        "Item": {
            "schema": {
                "type": obj,
                "properties": {"item_id": {"type": "integer"}, "name": {"type": "string"}, "price": {"type": "number"}},
                "required": ["item_id", "name"],
            }
        },
        "Price": {
            "schema": {
                "type": obj,
                "properties": {
                    "item_id": {"type": "integer"},
                    "amount": {"type": "number"},
                    "currency": {"type": "string"},
                },
                "required": ["item_id", "amount"],
            }
        },
        "ItemViewed": {
            "schema": {
                "type": obj,
                "properties": {"item_id": {"type": "integer"}, "user_id": {"type": "integer"}},
                "required": ["item_id"],
            }
        },
        "PriceComputed": {
            "schema": {
                "type": obj,
                "properties": {"item_id": {"type": "integer"}, "amount": {"type": "number"}},
                "required": ["item_id", "amount"],
            }
        },
    }
    services: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    interactions: list[dict[str, Any]] = []
    for g in range(1, groups + 1):
        p = f"g{g}"
        services[f"{p}-edge"] = {
            "operations": {
                "GetItem": {
                    "request": "ItemRequest",
                    "response": "Item",
                    "http": {"method": "GET", "path": "/items/{item_id}"},
                }
            }
        }
        services[f"{p}-catalog"] = {
            "operations": {
                "LookupItem": {
                    "request": "ItemRequest",
                    "response": "Item",
                    "http": {"method": "GET", "path": "/catalog/{item_id}"},
                }
            }
        }
        services[f"{p}-pricing"] = {
            "operations": {"ComputePrice": {"request": "ItemRequest", "response": "Price", "idempotent": True}}
        }
        services[f"{p}-worker"] = {}
        services[f"{p}-stats"] = {}
        channels[f"{p}.item-viewed"] = {"message": "ItemViewed"}
        channels[f"{p}.prices"] = {"message": "PriceComputed", "key": "item_id"}
        interactions += [
            {"from": "web-app", "to": f"{p}-edge", "use_case": "user-facing", "operation": "GetItem"},
            {
                "from": f"{p}-edge",
                "to": f"{p}-catalog",
                "use_case": "user-facing",
                "operation": "LookupItem",
                "within": "GetItem",
            },
            {
                "from": f"{p}-catalog",
                "to": f"{p}-pricing",
                "use_case": "user-facing",
                "operation": "ComputePrice",
                "within": "LookupItem",
                "performance_critical": True,
            },
            {
                "from": f"{p}-edge",
                "to": f"{p}-worker",
                "use_case": "background",
                "message": "ItemViewed",
                "channel": f"{p}.item-viewed",
            },
            {
                "from": f"{p}-pricing",
                "to": f"{p}-stats",
                "use_case": "analytics",
                "message": "PriceComputed",
                "channel": f"{p}.prices",
                "ordered": True,
            },
        ]
    return {
        "version": 1,
        "name": f"synthetic-{groups * 5}",
        "description": "Synthetic spec for bench_generate.",
        "messages": messages,
        "channels": channels,
        "services": services,
        "externals": {"web-app": {"kind": "client"}},
        "interactions": interactions,
    }


def write_yaml(data: dict[str, Any], path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def slice_data_file(spec_path: Path, service: str, path: Path) -> Path:
    from scaffold.plan.engine import build_plan
    from scaffold.plan.services import service_slices
    from scaffold.render.service import copier_data
    from scaffold.spec.load import load_spec

    spec = load_spec(str(spec_path))
    slices = {s["name"]: s for s in service_slices(spec, build_plan(spec))}
    return write_yaml(copier_data(slices[service]), path)  # the answers scaffold gives copier


def interleaved_processes(commands: dict[str, Any], rounds: int, warmup: int) -> dict[str, list[float]]:
    """Run each command once per round, rotating the order; commands are callables(dest) -> argv."""
    names = list(commands)
    work = c.tempdir("bench-gen-runs-")
    times: dict[str, list[float]] = {n: [] for n in names}
    try:
        for r in range(warmup + rounds):
            shift = r % len(names)
            order = names[shift:] + names[:shift]
            if (r // len(names)) % 2:
                order.reverse()
            for name in order:
                dest = work / f"{name}-{r}"
                elapsed = c.time_process(commands[name](dest), cwd=c.ROOT)
                c.remove(dest)
                if r >= warmup:
                    times[name].append(elapsed)
    finally:
        c.remove(work)
    return times


def committed_system(spec: Path, folder: Path) -> Path:
    """``spec`` generated into ``folder``/system, committed in a new git repository at ``folder``."""
    folder.mkdir(parents=True)
    system = folder / "system"
    subprocess.run([c.SCAFFOLD, "generate", str(spec), "-o", str(system)], check=True, capture_output=True)
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
        subprocess.run(["git", *identity, *command], cwd=folder, check=True, capture_output=True)
    return system


def interleaved_updates(spec: Path, rounds: int, warmup: int) -> dict[str, list[float]]:
    """(c): `scaffold update` of the system vs a plain `copier update` in each service folder, summed."""
    from scaffold.render.history import template_version

    work = c.tempdir("bench-gen-update-")
    try:
        repository = committed_system(spec, work / "repository").parent
        services = sorted(p.parent.name for p in (repository / "system").glob("*/.copier-answers.yml"))
        plain = [c.PYTHON, "-m", "copier", "update", "--defaults", "--quiet", "--trust", "--conflict", "inline"]
        plain += ["--vcs-ref", template_version()]
        names = ["plain copier update x N", "scaffold update"]
        times: dict[str, list[float]] = {name: [] for name in names}
        for r in range(warmup + rounds):
            for name in c.round_order(names, r):
                copy = work / f"{r}-{name.split()[0]}"
                shutil.copytree(repository, copy, symlinks=True)
                system = copy / "system"
                if name == "scaffold update":
                    elapsed = c.time_process([c.SCAFFOLD, "update", str(system), "--spec", str(spec)], cwd=c.ROOT)
                else:
                    elapsed = sum(c.time_process(plain, cwd=system / service) for service in services)
                dirty = subprocess.run(["git", "status", "--porcelain"], cwd=copy, capture_output=True, text=True)
                assert not dirty.stdout.strip(), f"{name} changed the system: {dirty.stdout[:500]}"
                c.remove(copy)
                if r >= warmup:
                    times[name].append(elapsed)
        times["services"] = [float(len(services))]
    finally:
        c.remove(work)
    return times


def stats(times: dict[str, list[float]], baseline: str) -> dict[str, Any]:
    base = statistics.median(times[baseline])
    out = {}
    for name, values in times.items():
        med = statistics.median(values)
        per_round = [v / b for v, b in zip(values, times[baseline], strict=True)]
        out[name] = {
            "runs": len(values),
            "median_s": round(med, 3),
            "min_s": round(min(values), 3),
            "max_s": round(max(values), 3),
            "ratio_of_medians": round(med / base, 2),
            "round_ratio_median": round(statistics.median(per_round), 2),
            "all_s": [round(v, 3) for v in values],
        }
    return out


def breakdown(spec: Path) -> dict[str, Any]:
    """In-process stage timings of one `generate`, in a fresh child process (imports included)."""
    out = subprocess.run(
        [c.PYTHON, __file__, "--_breakdown", str(spec)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=c.ROOT,
    )
    return json.loads(out.stdout)


def _breakdown_child(spec_path: str) -> None:
    t_start = time.perf_counter()
    timers: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    each: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                timers[name] += elapsed
                counts[name] += 1
                each[name].append(elapsed)

        return wrapper

    t0 = time.perf_counter()
    import scaffold.generate as g
    from scaffold.plan.engine import build_plan
    from scaffold.spec.load import load_spec

    timers["import scaffold (cli-side modules)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    import copier  # noqa: F401

    timers["import copier"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    import datamodel_code_generator  # noqa: F401

    timers["import datamodel_code_generator"] = time.perf_counter() - t0
    import scaffold.postprocess.models as models
    import scaffold.render.batch as batch

    # copier's render of each service (models made in process), then the template's task for all of them:
    # protoc and the compile check per service, one ruff run over every service's code and the user's files.
    g.render_service = timed("copier render per service (models included)", g.render_service)
    models.models_source = timed("models (datamodel-codegen per service, inside the render)", models.models_source)
    batch.compile_and_check = timed("protoc + compile check per service (finish)", batch.compile_and_check)
    batch.format_tree = timed("ruff over all services at once (finish)", batch.format_tree)
    batch.Renderer.finish = timed("finish (the template's task for every service)", batch.Renderer.finish)
    g._render_system = timed("system README/Makefile", g._render_system)
    g._install = timed("move into place", g._install)
    spawned: dict[str, int] = defaultdict(int)  # subprocesses started during generate, by program
    popen_init = subprocess.Popen.__init__

    def counting_init(self: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
        argv = [args] if isinstance(args, (str, bytes)) else list(args)
        program = Path(str(argv[0])).name
        if program.startswith("python") and len(argv) > 2 and argv[1] == "-m":
            program = f"python -m {argv[2]}"
        elif program == "git" and len(argv) > 1:
            program = "git " + " ".join(str(a) for a in argv[1:3] if not str(a).startswith("--"))
        spawned[program] += 1
        popen_init(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = counting_init  # type: ignore[method-assign]
    t0 = time.perf_counter()
    spec = load_spec(spec_path)
    plan = build_plan(spec)
    timers["load spec + plan"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="bench-gen-bd-") as tmp:
        t0 = time.perf_counter()
        result = g.generate(spec, plan, Path(tmp) / "out")
        timers["generate() total"] = time.perf_counter() - t0
    timers["child process total (after interpreter start)"] = time.perf_counter() - t_start
    subprocess.Popen.__init__ = popen_init  # type: ignore[method-assign]
    # What one of copier's git processes costs: the same command, run alone 15 times.
    git_runs = []
    for _ in range(15):
        t0 = time.perf_counter()
        subprocess.run(
            ["git", "config", "--type=bool", "--get", "core.fileMode"],
            capture_output=True,
            check=False,
            cwd=tempfile.gettempdir(),
            timeout=30,
        )
        git_runs.append(time.perf_counter() - t0)
    git_each = statistics.median(git_runs)
    git_count = sum(v for k, v in spawned.items() if k.startswith("git"))
    print(
        json.dumps(
            {
                "services": len(result.services),
                "files": len(result.files),
                "seconds": {k: round(v, 3) for k, v in timers.items()},
                "calls": dict(counts),
                "first_call_and_median_of_rest": {
                    k: [round(v[0], 3), round(statistics.median(v[1:]), 3) if len(v) > 1 else None]
                    for k, v in each.items()
                },
                "subprocesses": dict(sorted(spawned.items(), key=lambda kv: -kv[1])),
                "git_process_s": round(git_each, 4),
                "git_processes_estimated_s": round(git_each * git_count, 3),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds-a", type=int, default=8, help="rounds of part (a)")
    parser.add_argument("--rounds-b", type=int, default=3, help="rounds of part (b)")
    parser.add_argument("--rounds-c", type=int, default=3, help="rounds of part (c)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (page cache, pyc files)")
    parser.add_argument("--no-breakdown", action="store_true", help="skip part (d)")
    parser.add_argument("--json", help="where to write the figures (default bench/results/bench_generate.json)")
    parser.add_argument("--_breakdown", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._breakdown:
        _breakdown_child(args._breakdown)
        return

    work = c.tempdir("bench-gen-")
    try:
        data_file = slice_data_file(c.GUIDE, "order-service", work / "order-service.yml")
        spec5 = write_yaml(synthetic_spec(1), work / "synthetic-5.yaml")
        spec50 = write_yaml(synthetic_spec(10), work / "synthetic-50.yaml")
        for spec in (spec5, spec50):
            subprocess.run([c.SCAFFOLD, "check", str(spec)], check=True, capture_output=True, timeout=120)

        t0 = time.monotonic()
        a_times = interleaved_processes(
            {
                "copier copy (1 service)": lambda d: [
                    c.PYTHON,
                    "-m",
                    "copier",
                    "copy",
                    "--defaults",
                    "--quiet",
                    "--trust",  # the template's task: stubs and formatting are part of the copy
                    "--data-file",
                    str(data_file),
                    str(c.ROOT / "templates" / "service"),
                    str(d),
                ],
                "scaffold generate guide (4 services)": lambda d: [c.SCAFFOLD, "generate", str(c.GUIDE), "-o", str(d)],
                "python -c pass": lambda d: [c.PYTHON, "-c", "pass"],
                "python -c 'import copier'": lambda d: [c.PYTHON, "-c", "import copier"],
            },
            args.rounds_a,
            args.warmup,
        )
        a_seconds = time.monotonic() - t0
        t0 = time.monotonic()
        b_times = interleaved_processes(
            {
                "generate 5 services": lambda d: [c.SCAFFOLD, "generate", str(spec5), "-o", str(d)],
                "generate 50 services": lambda d: [c.SCAFFOLD, "generate", str(spec50), "-o", str(d)],
            },
            args.rounds_b,
            0,
        )
        b_seconds = time.monotonic() - t0
        t0 = time.monotonic()
        c_times = interleaved_updates(c.GUIDE, args.rounds_c, args.warmup)
        c_services = int(c_times.pop("services")[0])
        c_seconds = time.monotonic() - t0
        parts: dict[str, Any] = {}
        if not args.no_breakdown:
            for label, spec in (("guide", c.GUIDE), ("synthetic-5", spec5), ("synthetic-50", spec50)):
                parts[label] = breakdown(spec)
    finally:
        c.remove(work)

    a = stats(a_times, "copier copy (1 service)")
    b = stats(b_times, "generate 5 services")
    u = stats(c_times, "plain copier update x N")
    a_ratio = a["scaffold generate guide (4 services)"]["ratio_of_medians"]
    b_ratio = b["generate 50 services"]["ratio_of_medians"]
    c_ratio = u["scaffold update"]["ratio_of_medians"]
    data = {
        "tmp_filesystem": subprocess.run(
            ["df", "-T", tempfile.gettempdir()], capture_output=True, text=True
        ).stdout.splitlines()[-1],
        "a": {
            "rounds": args.rounds_a,
            "warmup": args.warmup,
            "seconds": round(a_seconds, 1),
            "times": a,
            "target": {
                "metric": "scaffold generate guide / copier copy",
                "max": 1.0,
                "value": a_ratio,
                "met": a_ratio <= 1.0,
            },
        },
        "b": {
            "rounds": args.rounds_b,
            "seconds": round(b_seconds, 1),
            "times": b,
            "target": {
                "metric": "generate 50 services / generate 5 services",
                "max": 3.0,
                "value": b_ratio,
                "met": b_ratio <= 3.0,
            },
        },
        "c": {
            "rounds": args.rounds_c,
            "services": c_services,
            "seconds": round(c_seconds, 1),
            "times": u,
            "target": {
                "metric": f"scaffold update / {c_services} plain copier updates",
                "max": 0.5,
                "value": c_ratio,
                "met": c_ratio <= 0.5,
            },
        },
        "c_breakdown": parts,
    }
    for label, part in (("(a)", a), ("(b)", b), ("(c)", u)):
        print(f"{label} whole-process wall time, interleaved rounds (seconds):")
        print(
            c.table(
                ["command", "runs", "median", "min", "max", "ratio (medians)", "round-median ratio"],
                [
                    [
                        k,
                        v["runs"],
                        v["median_s"],
                        v["min_s"],
                        v["max_s"],
                        f"{v['ratio_of_medians']:.2f}x",
                        f"{v['round_ratio_median']:.2f}x",
                    ]
                    for k, v in part.items()
                ],
            )
        )
        print()
    for key in ("a", "b", "c"):
        t = data[key]["target"]
        print(f"target {t['metric']} <= {t['max']}x: {t['value']:.2f}x -> {'MET' if t['met'] else 'NOT MET'}")
    if parts:
        print("\n(d) in-process stage times of one generate, fresh child process (seconds):")
        stages = list(dict.fromkeys(k for p in parts.values() for k in p["seconds"]))
        rows = [[stage] + [p["seconds"].get(stage, "") for p in parts.values()] for stage in stages]
        rows.append(["services / files"] + [f"{p['services']} / {p['files']}" for p in parts.values()])
        print(c.table(["stage", *list(parts)], rows))
        print("\nfirst call / median of the other calls, per stage (seconds):")
        stages = list(dict.fromkeys(k for p in parts.values() for k in p["first_call_and_median_of_rest"]))
        print(
            c.table(
                ["stage", *list(parts)],
                [
                    [k]
                    + [
                        " / ".join(str(x) for x in p["first_call_and_median_of_rest"].get(k, []))
                        for p in parts.values()
                    ]
                    for k in stages
                ],
            )
        )
        print("\nsubprocesses started during one generate:")
        programs = list(dict.fromkeys(k for p in parts.values() for k in p["subprocesses"]))
        print(
            c.table(
                ["program", *list(parts)],
                [[k] + [p["subprocesses"].get(k, 0) for p in parts.values()] for k in programs],
            )
        )
        print(
            c.table(
                ["git processes x one git config run alone", *parts],
                [
                    ["estimated seconds"]
                    + [
                        f"{p['git_processes_estimated_s']} ({p['git_process_s'] * 1000:.1f} ms each)"
                        for p in parts.values()
                    ]
                ],
            )
        )
    path = c.write_json("bench_generate", data, args.json)
    print(f"\nfigures: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
