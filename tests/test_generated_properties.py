"""Property test: any small valid spec generates services that pass ruff, mypy --strict and their
own tests, not only the examples.

The strategy builds coherent specs by construction: one to three services; operations of every
shape (with or without request and response, idempotent or not, unary and all three streaming
kinds, with and without an HTTP binding); messages whose JSON Schemas mix integers, numbers,
strings, enums, booleans, arrays, nested and free-form objects, required or not; and interactions
of every use case (a web client, service to service over REST and gRPC, queues, streams, a
third-party API, inbound and outbound webhooks). Calls only go from a service to a later one, so
there is no cycle, and a spec whose plan still has an error is discarded.

Each example generates, lints, type-checks and runs tests, about a minute on a loaded machine, so
CI runs a few derandomized examples (the same on every run) without shrinking.
SCAFFOLD_PROPERTY_EXAMPLES=N runs N of them, from a random seed unless SCAFFOLD_PROPERTY_SEED is
set; a failing spec is printed as YAML. Specs that once failed are kept under
tests/fixtures/properties/ and rerun every time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, given, note, seed, settings
from hypothesis import strategies as st

from scaffold.generate import generate
from scaffold.plan.engine import build_plan
from scaffold.spec.load import load_spec
from tests.generation import run_tool

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "properties"
EXAMPLES = int(os.environ.get("SCAFFOLD_PROPERTY_EXAMPLES", "0"))
SEED = os.environ.get("SCAFFOLD_PROPERTY_SEED")

SERVICES = ["alpha-service", "beta", "order-store"]
OPERATIONS = ["GetItem", "PutItem", "ListItems", "WatchItems", "UploadItems", "SyncItems"]
FIELDS = ["item_id", "name", "price", "tags", "active", "kind", "details", "meta", "created_at"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


# -- messages ---------------------------------------------------------------------------------
def _field_schema(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["integer", "number", "string", "boolean", "enum", "array", "object", "free", "datetime"])
    )
    if kind == "enum":
        return {
            "type": "string",
            "enum": draw(st.lists(st.sampled_from(["new", "done", "a-b", "x"]), min_size=1, max_size=3, unique=True)),
        }
    if kind == "array":
        return {"type": "array", "items": {"type": draw(st.sampled_from(["integer", "string", "number"]))}}
    if kind == "object":
        return {
            "type": "object",
            "properties": {"x": {"type": "number"}, "label": {"type": "string"}},
            "required": ["x"],
        }
    if kind == "free":
        return {"type": "object"}
    if kind == "datetime":
        return {"type": "string", "format": "date-time"}
    schema: dict[str, Any] = {"type": kind}
    if kind == "integer" and draw(st.booleans()):
        schema["minimum"] = 0
    return schema


def _message(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True))
    properties = {name: _field_schema(draw, name) for name in names}
    required = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"schema": schema}


# -- services and their operations ------------------------------------------------------------
def _operation(draw: st.DrawFn, name: str, messages: list[str], streaming: str) -> dict[str, Any]:
    op: dict[str, Any] = {}
    for role in ("request", "response"):
        if draw(st.integers(0, 3)) > 0:
            op[role] = draw(st.sampled_from(messages))
    if streaming != "none":
        op["streaming"] = streaming
    if draw(st.booleans()):
        op["idempotent"] = draw(st.booleans())
    if streaming == "none" and draw(st.booleans()):
        op["http"] = {"method": draw(st.sampled_from(METHODS)), "path": f"/{name.lower()}"}
    return op


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    message_names = [f"Item{i}" for i in range(draw(st.integers(1, 3)))]
    messages = {name: _message(draw) for name in message_names}
    services = SERVICES[: draw(st.integers(1, 3))]
    streaming = ["none", "server", "client", "bidi"]
    operations: dict[str, dict[str, dict[str, Any]]] = {}
    for service in services:
        chosen = draw(st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=3, unique=True))
        operations[service] = {
            op: _operation(draw, op, message_names, draw(st.sampled_from(streaming))) for op in chosen
        }

    def unary(service: str) -> list[str]:
        return [name for name, op in operations[service].items() if "streaming" not in op]

    interactions: list[dict[str, Any]] = []
    used: set[tuple[str, str, str]] = set()

    def add(item: dict[str, Any]) -> None:
        key = (item["from"], item["to"], item.get("operation") or item.get("message") or "")
        if key not in used:
            used.add(key)
            interactions.append(item)

    edge = services[0]
    if unary(edge):
        add({"from": "web", "to": edge, "use_case": "user-facing", "operation": draw(st.sampled_from(unary(edge)))})
    for i, caller in enumerate(services):
        for callee in services[i + 1 :]:
            for _ in range(draw(st.integers(0, 2))):
                use_case = draw(st.sampled_from(["user-facing", "high-throughput-internal", "background", "analytics"]))
                if use_case in ("background", "analytics"):
                    add(
                        {
                            "from": caller,
                            "to": callee,
                            "use_case": use_case,
                            "message": draw(st.sampled_from(message_names)),
                        }
                    )
                    continue
                # A user-facing internal hop on a streaming operation goes over gRPC; REST only for unary.
                op = draw(st.sampled_from(sorted(operations[callee])))
                add({"from": caller, "to": callee, "use_case": use_case, "operation": op})
    externals: dict[str, Any] = {"web": {"kind": "client"}}
    if draw(st.booleans()):
        externals["payments"] = {
            "kind": "api",
            "accepts_idempotency_key": True,
            "operations": {"Charge": {"request": message_names[0], "http": {"method": "POST", "path": "/charges"}}},
        }
        add({"from": services[-1], "to": "payments", "use_case": "external-integration", "operation": "Charge"})
        if draw(st.booleans()):
            add(
                {
                    "from": "payments",
                    "to": services[-1],
                    "use_case": "external-integration",
                    "message": message_names[-1],
                }
            )
    if draw(st.booleans()):
        externals["partner"] = {"kind": "api"}
        add({"from": services[0], "to": "partner", "use_case": "external-integration", "message": message_names[0]})
    # Every service takes part, so none is generated without a reason to exist.
    assume(all(any(service in (i["from"], i["to"]) for i in interactions) for service in services))
    return {
        "version": 1,
        "name": "prop",
        "messages": messages,
        "services": {name: {"operations": ops} for name, ops in operations.items()},
        "externals": externals,
        "interactions": interactions,
    }


# -- what every generated service must pass ---------------------------------------------------
def _services(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "pyproject.toml").is_file())


def check_generated(data: dict[str, Any], folder: Path) -> None:
    """Generate ``data`` (a spec whose plan has no error) and run every service's tools."""
    spec_file = folder / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    spec = load_spec(spec_file)
    plan = build_plan(spec)
    assert not plan.errors, [f"{f.rule}: {f.message}" for f in plan.errors]
    out = folder / "out"
    generate(spec, plan, out)
    for service in _services(out):
        for tool in (
            ("ruff", "check", "--no-cache", "."),
            ("ruff", "format", "--no-cache", "--check", "."),
            ("mypy", "--no-incremental", "--cache-dir=/dev/null"),
            ("pytest", "-q", "-p", "no:cacheprovider", "-x"),
        ):
            result = run_tool(service, *tool)
            assert result.returncode == 0, f"{service.name}: {' '.join(tool)}\n{result.stdout}\n{result.stderr}"


def _settings() -> settings:
    if EXAMPLES:
        return settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.generate],
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        )
    return settings(
        max_examples=3,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def plans_clean(data: dict[str, Any]) -> bool:
    with tempfile.TemporaryDirectory(prefix="scaffold-prop-") as folder:
        spec_file = Path(folder) / "spec.yaml"
        spec_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        spec = load_spec(spec_file)
        plan = build_plan(spec)
    return not plan.errors


def _property(data: dict[str, Any]) -> None:
    assume(plans_clean(data))
    note(yaml.safe_dump(data, sort_keys=False))
    with tempfile.TemporaryDirectory(prefix="scaffold-prop-") as folder:
        check_generated(data, Path(folder))


test_any_valid_spec_generates_clean_services = _settings()(given(valid_specs())(_property))
if SEED is not None:
    test_any_valid_spec_generates_clean_services = seed(int(SEED))(test_any_valid_spec_generates_clean_services)


# -- specs that once failed ---------------------------------------------------------------------
def _fixture_cases() -> list[Any]:
    cases = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        head = path.read_text(encoding="utf-8").splitlines()[0]
        marks = []
        if head.startswith("# xfail: "):
            marks.append(pytest.mark.xfail(strict=True, reason=head.removeprefix("# xfail: ")))
        cases.append(pytest.param(path, id=path.stem, marks=marks))
    return cases


@pytest.mark.parametrize("path", _fixture_cases())
def test_spec_that_once_failed(path: Path, tmp_path: Path) -> None:
    check_generated(yaml.safe_load(path.read_text(encoding="utf-8")), tmp_path)
