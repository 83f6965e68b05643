"""Property tests: whatever the input, loading and planning either work or raise ``SpecInvalid``.

No input may end in a traceback: arbitrary text and bytes, arbitrary JSON-like trees (as a file
and handed to ``resolve`` directly), coherent random specs (most of which are valid, so they
reach the planner), and random edits of the guide example (delete a key, replace a value, rename
a key). Whenever a spec loads, its plan gives every interaction a pattern and a reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from scaffold.errors import SpecInvalid
from scaffold.plan.engine import build_plan
from scaffold.spec import model as spec_model
from scaffold.spec.load import load_spec, resolve
from scaffold.spec.model import PATTERNS, USE_CASES
from scaffold.spec.resolved import LoadedSpec
from scaffold.spec.yaml_source import Source

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "specs" / "examples" / "guide.yaml"
GUIDE_TEXT = GUIDE.read_text(encoding="utf-8")
GUIDE_DATA: dict[str, Any] = yaml.safe_load(GUIDE_TEXT)

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example (hypothesis does not mix with function-scoped fixtures)."""
    return tmp_path_factory.mktemp("properties")


def outcome(load: Callable[[], LoadedSpec]) -> bool:
    """Load and plan; True when the spec is valid. Any exception but SpecInvalid fails the test."""
    try:
        spec = load()
    except SpecInvalid as exc:
        assert exc.problems, "SpecInvalid without problems"
        for problem in exc.problems:
            assert problem.message.strip()
            assert problem.render()
        return False
    plan = build_plan(spec)
    assert len(plan.interactions) == len(spec.interactions)
    for item in plan.interactions:
        assert item.pattern in PATTERNS
        assert item.reason.strip(), f"{item.id}: empty reason"
    for finding in plan.findings:
        assert finding.message.strip()
    return True


def load_file(folder: Path, content: str | bytes) -> bool:
    path = folder / "spec.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return outcome(lambda: load_spec(path))


def load_tree(folder: Path, tree: Any) -> bool:
    """Load ``tree`` both through a YAML file and straight through ``resolve``: same verdict."""
    # Escaped (not allow_unicode): PyYAML does not read back a NEL (U+0085) it wrote raw.
    from_file = load_file(folder, yaml.safe_dump(tree, sort_keys=False))
    direct = outcome(lambda: resolve(Source(path="tree", data=tree), folder))
    assert from_file == direct, "the YAML reader changed what the tree means"
    return direct


def test_guide_is_valid(workdir: Path) -> None:
    assert load_file(workdir, GUIDE_TEXT)
    assert load_tree(workdir, GUIDE_DATA)


# -- (a) arbitrary text and bytes -----------------------------------------------------------------

GUIDE_LINES = GUIDE_TEXT.splitlines()
YAML_PIECES = [
    *"abz09 -_:.,[]{}&*!|>'\"#%@`?<=\n\t\\~",
    "version: 1\n",
    "name: shop\n",
    "services:\n",
    "  user-service: {}\n",
    "interactions:\n",
    "  - ",
    "&a ",
    "*a",
    "<<: ",
    "!!int ",
    "!!binary ",
    "!custom ",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "\ufeff",
    "\x85",
    "\u2028",
    "é",
    "2024-01-31",
    "0x1F",
    ".nan",
    "~",
]

texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(YAML_PIECES), max_size=80).map("".join),
    st.lists(st.sampled_from(GUIDE_LINES), max_size=60).map("\n".join),
)
raw_bytes = st.one_of(
    st.binary(max_size=300),
    texts.map(lambda text: text.encode("utf-8")),
    texts.map(lambda text: text.encode("utf-16")),
    st.lists(st.sampled_from(GUIDE_LINES), max_size=40).map(
        lambda lines: "\n".join(lines).encode("latin-1", "replace")
    ),
)


@BOUNDED
@given(text=texts)
def test_arbitrary_text(workdir: Path, text: str) -> None:
    load_file(workdir, text)


@BOUNDED
@given(data=raw_bytes)
def test_arbitrary_bytes(workdir: Path, data: bytes) -> None:
    load_file(workdir, data)


# -- (b) arbitrary JSON-like trees ----------------------------------------------------------------

SERVICE_NAMES = ["user-service", "order-service", "web-app", "payment-provider", "import", "UserService"]
OPERATION_NAMES = ["GetUser", "CreateOrder", "Class", "getUser"]
MESSAGE_NAMES = ["User", "OrderCreated", "GetUserRequest", "order_created"]
CHANNEL_NAMES = ["order-events", "order.created", "order events"]
# Every key the spec format knows (as written in YAML), so random trees hit real fields.
SPEC_KEYS = {
    info.alias or name
    for model in vars(spec_model).values()
    if isinstance(model, type) and issubclass(model, BaseModel)
    for name, info in model.model_fields.items()
}
SPEC_WORDS = sorted(
    {
        *SPEC_KEYS,
        *SERVICE_NAMES,
        *OPERATION_NAMES,
        *MESSAGE_NAMES,
        *CHANNEL_NAMES,
        *USE_CASES,
        *PATTERNS,
        *["type", "object", "properties", "required", "client", "api", "GET", "POST", "none", "server", "bidi"],
    }
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(SPEC_WORDS),
)
keys = st.one_of(st.sampled_from(SPEC_WORDS), st.text(max_size=12))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=5),
    ),
    max_leaves=40,
)


@BOUNDED
@given(tree=trees)
def test_arbitrary_tree(workdir: Path, tree: Any) -> None:
    load_tree(workdir, tree)


# -- random edits of a tree: delete a key or item, replace a value, rename a key ------------------


def node_paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every key and item under ``tree``."""
    children: list[tuple[Any, Any]] = []
    if isinstance(tree, dict):
        children = list(tree.items())
    elif isinstance(tree, list):
        children = list(enumerate(tree))
    out = []
    for key, value in children:
        out.append((*prefix, key))
        out.extend(node_paths(value, (*prefix, key)))
    return out


GUIDE_KEYS = sorted({str(path[-1]) for path in node_paths(GUIDE_DATA) if isinstance(path[-1], str)})
replacements = st.one_of(scalars, st.sampled_from(GUIDE_KEYS), trees)


def edit(draw: st.DrawFn, spec: Any) -> None:
    """Apply one random edit to ``spec`` in place."""
    paths = node_paths(spec)
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    parent = spec
    for part in path[:-1]:
        parent = parent[part]
    key = path[-1]
    kind = draw(st.sampled_from(["delete", "replace", "rename"]))
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        parent[key] = draw(replacements)
    elif isinstance(parent, dict):
        new_key = draw(st.one_of(st.sampled_from(GUIDE_KEYS), keys))
        items = list(parent.items())
        parent.clear()
        for k, v in items:
            parent[new_key if k == key else k] = v
    else:  # a list item has no name: repeat it instead (duplicate interactions and the like)
        parent.insert(key, copy.deepcopy(parent[key]))


# -- (b, continued) coherent random specs, now and then edited ---------------------------------
# Arbitrary trees almost never get past the model; these mostly do, so they reach the resolver
# and the planner with random topologies (cycles, chains, fan-out, overrides, budgets).

SERVICES = ["user-service", "order-service", "billing", "notification-service", "search"]
EXTERNALS = ["web-app", "payment-provider"]
OPERATIONS = ["GetUser", "CreateOrder", "Charge", "Search", "Notify"]
MESSAGES = ["OrderCreated", "User", "ChargeRequest", "PaymentSucceeded"]
SCHEMA = {"type": "object", "properties": {"user_id": {"type": "integer"}}, "required": ["user_id"]}


def operation(draw: st.DrawFn, messages: list[str]) -> dict[str, Any]:
    op: dict[str, Any] = {}
    for role in ("request", "response"):
        if messages and draw(st.booleans()):
            op[role] = draw(st.sampled_from(messages))
    if draw(st.booleans()):
        op["idempotent"] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        op["streaming"] = draw(st.sampled_from(["none", "server", "client", "bidi"]))
    if draw(st.booleans()):
        op["http"] = {"method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])), "path": "/things/{user_id}"}
    return op


def interaction(draw: st.DrawFn, ends: list[str], ops: dict[str, list[str]], messages: list[str]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "from": draw(st.sampled_from(ends)),
        "to": draw(st.sampled_from(ends)),
        "use_case": draw(st.sampled_from(USE_CASES)),
    }
    if ops[item["to"]] and (not messages or draw(st.booleans())):
        item["operation"] = draw(st.sampled_from(ops[item["to"]]))
    elif messages:
        item["message"] = draw(st.sampled_from(messages))
    extras = {
        "within": st.sampled_from(ops[item["from"]] or ["Missing"]),
        "pattern": st.sampled_from(PATTERNS),
        "reason": st.just("Measured: the default does not fit."),
        "ordered": st.booleans(),
        "ordering_key": st.just("user_id"),
        "latency_budget_ms": st.integers(1, 20_000),
        "idempotent": st.booleans(),
        "needs_immediate_response": st.booleans(),
        "performance_critical": st.booleans(),
        "typed_contract": st.booleans(),
        "resilience": st.fixed_dictionaries(
            {},
            optional={
                "max_attempts": st.integers(1, 10),
                "attempt_timeout_ms": st.integers(1, 60_000),
                "total_timeout_ms": st.integers(1, 60_000),
                "mesh_retry_attempts": st.integers(0, 3),
                "backoff_initial_ms": st.integers(1, 5_000),
                "backoff_max_ms": st.integers(1, 60_000),
                "idempotency_key": st.booleans(),
                "retry_delays_ms": st.lists(st.integers(1, 60_000), max_size=3),
            },
        ),
    }
    for key in draw(st.lists(st.sampled_from(sorted(extras)), max_size=4, unique=True)):
        item[key] = draw(extras[key])
    return item


@st.composite
def coherent_specs(draw: st.DrawFn) -> dict[str, Any]:
    messages = draw(st.lists(st.sampled_from(MESSAGES), max_size=4, unique=True))
    services = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=5, unique=True))
    externals = draw(st.dictionaries(st.sampled_from(EXTERNALS), st.sampled_from(["client", "api"]), max_size=2))
    ops: dict[str, list[str]] = {}
    spec: dict[str, Any] = {
        "version": 1,
        "name": "shop",
        "messages": {m: {"schema": copy.deepcopy(SCHEMA)} for m in messages},
    }
    if draw(st.booleans()):
        spec["settings"] = {
            "max_sync_depth": draw(st.integers(1, 5)),
            "max_retry_amplification": draw(st.integers(1, 20)),
        }
    spec["services"] = {}
    for name in services:
        ops[name] = draw(st.lists(st.sampled_from(OPERATIONS), max_size=3, unique=True))
        spec["services"][name] = {"operations": {op: operation(draw, messages) for op in ops[name]}}
    spec["externals"] = {}
    for name, kind in externals.items():
        ops[name] = draw(st.lists(st.sampled_from(OPERATIONS), max_size=2, unique=True)) if kind == "api" else []
        spec["externals"][name] = {"kind": kind, "operations": {op: operation(draw, messages) for op in ops[name]}}
    ends = services + list(externals)
    count = draw(st.integers(0, 8))
    spec["interactions"] = [interaction(draw, ends, ops, messages) for _ in range(count)]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        edit(draw, spec)
    return spec


@BOUNDED
@given(tree=coherent_specs())
def test_coherent_specs(workdir: Path, tree: dict[str, Any]) -> None:
    load_tree(workdir, tree)


# -- (c) random edits of the guide example ------------------------------------------------------


@st.composite
def guide_edits(draw: st.DrawFn) -> dict[str, Any]:
    spec = copy.deepcopy(GUIDE_DATA)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        edit(draw, spec)
    return spec


@BOUNDED
@given(spec=guide_edits())
def test_guide_edits(workdir: Path, spec: dict[str, Any]) -> None:
    load_tree(workdir, spec)
