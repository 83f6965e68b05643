"""Every row of the decision table fires for its input, and not for a near miss."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scaffold.cli import main
from scaffold.plan.engine import build_plan
from scaffold.plan.model import PlannedInteraction
from scaffold.plan.rules import RULES, decide
from scaffold.spec.load import resolve
from scaffold.spec.resolved import LoadedSpec
from scaffold.spec.yaml_source import Source

OBJECT = {"schema": {"type": "object"}}

# A small system: `front` calls `back`, which offers every kind of operation; `web` is a client at
# the edge and `ext` a third-party API.
BASE: dict[str, Any] = {
    "version": 1,
    "name": "t",
    "messages": {"Req": OBJECT, "OrderCreated": OBJECT},
    "services": {
        "front": {"operations": {"Serve": {}}},
        "back": {
            "operations": {
                "Read": {"request": "Req", "http": {"method": "GET", "path": "/read"}},
                "Write": {"request": "Req"},
                "Watch": {"streaming": "server"},
                "Upload": {"streaming": "client"},
                "Chat": {"streaming": "bidi"},
            }
        },
    },
    "externals": {
        "web": {"kind": "client"},
        "ext": {"kind": "api", "operations": {"Charge": {}}},
    },
}


def load(*interactions: dict[str, Any]) -> LoadedSpec:
    return resolve(Source(path="t.yaml", data={**BASE, "interactions": list(interactions)}), Path("."))


def link(source: str, target: str, use_case: str, **fields: Any) -> dict[str, Any]:
    return {"from": source, "to": target, "use_case": use_case, **fields}


def only(spec: LoadedSpec, service: str, operation: str, transport: str) -> LoadedSpec:
    """``spec`` with ``service.operation`` offered on one transport, as a .proto or OpenAPI contract makes it."""
    endpoint = spec.endpoints[service]
    op = replace(endpoint.operations[operation], transports=frozenset({transport}))
    endpoint = replace(endpoint, operations={**endpoint.operations, operation: op})
    return replace(spec, endpoints={**spec.endpoints, service: endpoint})


def planned(spec: LoadedSpec) -> PlannedInteraction:
    (item,) = build_plan(spec).interactions
    return item


def decided(inter: dict[str, Any]) -> PlannedInteraction:
    return planned(load(inter))


# (rule, pattern, the link that fires it, a near miss, what the near miss gets instead)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], tuple[str, str]]] = [
    (
        "override",
        "queue",
        link("front", "back", "user-facing", operation="Read", pattern="queue", reason="the caller polls"),
        link("front", "back", "user-facing", operation="Read", reason="no pattern"),
        ("rest", "user-facing-rest"),
    ),
    (
        "user-facing-edge",
        "rest",
        link("web", "back", "user-facing", operation="Write", performance_critical=True, typed_contract=True),
        link("front", "back", "user-facing", operation="Write", performance_critical=True),
        ("grpc", "user-facing-performance"),
    ),
    (
        "user-facing-streaming",
        "grpc",
        link("front", "back", "user-facing", operation="Watch"),
        link("front", "back", "user-facing", operation="Read"),
        ("rest", "user-facing-rest"),
    ),
    (
        "user-facing-performance",
        "grpc",
        link("front", "back", "user-facing", operation="Read", performance_critical=True),
        link("front", "back", "user-facing", operation="Read", performance_critical=False),
        ("rest", "user-facing-rest"),
    ),
    (
        "user-facing-typed",
        "grpc",
        link("front", "back", "user-facing", operation="Read", typed_contract=True),
        link("web", "back", "user-facing", operation="Read", typed_contract=True),
        ("rest", "user-facing-edge"),
    ),
    (
        "user-facing-rest",
        "rest",
        link("front", "back", "user-facing", operation="Write"),
        link("front", "back", "high-throughput-internal", operation="Write"),
        ("grpc", "high-throughput-grpc"),
    ),
    (
        "background-queue",
        "queue",
        link("front", "back", "background", message="OrderCreated"),
        link("front", "back", "analytics", message="OrderCreated"),
        ("stream", "analytics-stream"),
    ),
    (
        "analytics-stream",
        "stream",
        link("front", "back", "analytics", message="OrderCreated"),
        link("front", "back", "background", message="OrderCreated"),
        ("queue", "background-queue"),
    ),
    (
        "high-throughput-grpc",
        "grpc",
        link("front", "back", "high-throughput-internal", operation="Read"),
        link("front", "back", "user-facing", operation="Read"),
        ("rest", "user-facing-rest"),
    ),
    (
        "external-rest",
        "rest",
        link("front", "ext", "external-integration", operation="Charge"),
        link("front", "ext", "external-integration", message="OrderCreated"),
        ("webhook", "external-webhook"),
    ),
    (
        "external-webhook",
        "webhook",
        link("ext", "back", "external-integration", message="OrderCreated"),
        link("web", "back", "external-integration", operation="Write"),
        ("rest", "external-rest"),
    ),
]

# The two contract rows need an operation imported from a contract; they are tested below.
CONTRACT_RULES = {"contract-grpc", "contract-rest"}


@pytest.mark.parametrize(("rule", "pattern", "fires", "near", "instead"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_and_near_miss_does_not(
    rule: str, pattern: str, fires: dict[str, Any], near: dict[str, Any], instead: tuple[str, str]
) -> None:
    hit = decided(fires)
    assert (hit.pattern, hit.rule) == (pattern, rule)
    assert hit.reason
    miss = decided(near)
    assert miss.rule != rule
    assert (miss.pattern, miss.rule) == instead


def test_every_row_of_the_table_is_tested() -> None:
    assert {c[0] for c in CASES} | CONTRACT_RULES == {r.name for r in RULES}


def test_rules_table_order_matches_decide() -> None:
    # The override wins over everything, contracts over the use cases, the edge over internal hops.
    names = [r.name for r in RULES]
    assert names[:3] == ["override", "contract-grpc", "contract-rest"]
    assert names.index("user-facing-edge") < names.index("user-facing-streaming") < names.index("user-facing-rest")


def test_override_reason_is_the_given_reason() -> None:
    hit = decided(link("front", "back", "background", message="OrderCreated", pattern="stream", reason="replay"))
    assert (hit.pattern, hit.rule, hit.reason) == ("stream", "override", "replay")


def test_override_without_reason_says_so() -> None:
    hit = decided(link("front", "back", "background", message="OrderCreated", pattern="stream"))
    assert (hit.pattern, hit.rule) == ("stream", "override")
    assert hit.reason == "overridden without a reason"


def test_edge_wins_over_streaming() -> None:
    hit = decided(link("web", "back", "user-facing", operation="Watch"))
    assert (hit.pattern, hit.rule) == ("rest", "user-facing-edge")


@pytest.mark.parametrize("operation", ["Watch", "Upload", "Chat"])
def test_every_streaming_kind_needs_grpc(operation: str) -> None:
    hit = decided(link("front", "back", "user-facing", operation=operation))
    assert (hit.pattern, hit.rule) == ("grpc", "user-facing-streaming")


def test_streaming_wins_over_typed_and_performance() -> None:
    hit = decided(
        link("front", "back", "user-facing", operation="Watch", performance_critical=True, typed_contract=True)
    )
    assert hit.rule == "user-facing-streaming"


def test_external_client_calling_in_gets_rest() -> None:
    hit = decided(link("web", "back", "external-integration", operation="Write"))
    assert (hit.pattern, hit.rule) == ("rest", "external-rest")


@pytest.mark.parametrize(
    ("source", "target", "direction", "third"),
    [("ext", "back", "inbound", "from the third party `ext`"), ("back", "ext", "outbound", "to the third party `ext`")],
)
def test_webhook_direction(source: str, target: str, direction: str, third: str) -> None:
    hit = decided(link(source, target, "external-integration", message="OrderCreated"))
    assert (hit.pattern, hit.rule) == ("webhook", "external-webhook")
    assert third in hit.reason
    assert hit.resilience["direction"] == direction


# -- contracts ------------------------------------------------------------------------------------
def test_contract_grpc_fires_for_a_proto_operation() -> None:
    spec = only(load(link("front", "back", "user-facing", operation="Write")), "back", "Write", "grpc")
    hit = planned(spec)
    assert (hit.pattern, hit.rule) == ("grpc", "contract-grpc")
    assert hit.reason == "`back.Write` comes from a .proto contract"


def test_contract_rest_fires_for_an_openapi_operation() -> None:
    inter = link("front", "back", "high-throughput-internal", operation="Write")
    hit = planned(only(load(inter), "back", "Write", "rest"))
    assert (hit.pattern, hit.rule) == ("rest", "contract-rest")
    assert hit.reason == "`back.Write` comes from an OpenAPI contract"


def test_contract_near_miss_operation_on_both_transports() -> None:
    hit = planned(load(link("front", "back", "high-throughput-internal", operation="Write")))
    assert hit.rule == "high-throughput-grpc"


def test_contract_rules_only_apply_to_synchronous_links() -> None:
    inter = link("front", "back", "background", operation="Write")
    hit = planned(only(load(inter), "back", "Write", "grpc"))
    assert (hit.pattern, hit.rule) == ("queue", "background-queue")


def test_contract_applies_to_external_calls() -> None:
    inter = link("front", "ext", "external-integration", operation="Charge")
    hit = planned(only(load(inter), "ext", "Charge", "rest"))
    assert hit.rule == "contract-rest"


def test_override_wins_over_contract() -> None:
    inter = link("front", "back", "user-facing", operation="Write", pattern="rest", reason="gateway speaks JSON")
    hit = planned(only(load(inter), "back", "Write", "grpc"))
    assert (hit.pattern, hit.rule) == ("rest", "override")


def test_decide_is_a_pure_function_of_its_arguments() -> None:
    spec = load(link("front", "back", "user-facing", operation="Read", performance_critical=True))
    (inter,) = spec.interactions
    back = spec.endpoints["back"]
    first = decide(inter, spec.endpoints["front"], back, back.operations["Read"])
    again = decide(inter, spec.endpoints["front"], back, back.operations["Read"])
    assert first == again
    assert (first.pattern, first.rule) == ("grpc", "user-facing-performance")


def test_explain_prints_every_rule() -> None:
    result = CliRunner().invoke(main, ["explain"])
    assert result.exit_code == 0
    for rule in RULES:
        assert rule.name in result.output
