"""Every architecture check and every finding rule, positive and negative; the CLI's exit codes."""

from __future__ import annotations

import importlib
import inspect
import itertools
import json
import pkgutil
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scaffold.cli import main
from scaffold.plan.engine import build_plan
from scaffold.plan.model import Finding, Plan
from scaffold.spec.load import resolve
from scaffold.spec.yaml_source import Source, parse_yaml

ROOT = Path(__file__).resolve().parent.parent
MARKETPLACE = ROOT / "specs" / "examples" / "marketplace.yaml"

OBJECT = {"schema": {"type": "object"}}
GET = {"method": "GET", "path": "/x"}

# Services `a` to `f` each offer `Get` (idempotent), `Post` (not idempotent), `Other` and the
# streaming `Watch`; `web` is a client at the edge, `ext` a third-party API.
BASE: dict[str, Any] = {
    "version": 1,
    "name": "t",
    "messages": {"OrderCreated": OBJECT},
    "services": {
        name: {
            "operations": {
                "Get": {"http": GET},
                "Post": {"request": "OrderCreated"},
                "Other": {"http": GET},
                "Watch": {"streaming": "server"},
            }
        }
        for name in "abcdef"
    },
    "externals": {
        "web": {"kind": "client"},
        "ext": {"kind": "api", "operations": {"Post": {}, "Get": {"http": GET}}},
    },
}


def plan(*interactions: dict[str, Any], **sections: Any) -> Plan:
    data = {**BASE, **sections, "interactions": list(interactions)}
    return build_plan(resolve(Source(path="t.yaml", data=data), Path(".")))


def link(source: str, target: str, use_case: str = "user-facing", what: str = "Get", **fields: Any) -> dict[str, Any]:
    key = "message" if what == "OrderCreated" else "operation"
    return {"from": source, "to": target, "use_case": use_case, key: what, **fields}


def chain(*services: str, **fields: Any) -> list[dict[str, Any]]:
    """web -> services[0] -> services[1] -> ..., each hop made while serving `Get`."""
    hops = [link("web", services[0], **fields)]
    hops += [link(s, t, within="Get", **fields) for s, t in itertools.pairwise(services)]
    return hops


def found(p: Plan, rule: str) -> list[Finding]:
    return [f for f in p.findings if f.rule == rule]


def the(p: Plan, rule: str) -> Finding:
    (finding,) = found(p, rule)
    return finding


def assert_clean(p: Plan) -> None:
    assert p.findings == []


# -- sync-cycle -------------------------------------------------------------------------------------
def test_sync_cycle() -> None:
    p = plan(link("a", "b"), link("b", "a"))
    f = the(p, "sync-cycle")
    assert (f.severity, f.interactions, f.numbers) == ("error", ["a-to-b-get", "b-to-a-get"], {"length": 2})
    assert "synchronous cycle a -> b -> a" in f.message


def test_sync_cycle_of_three_is_reported_once() -> None:
    p = plan(link("a", "b"), link("b", "c"), link("c", "a"))
    f = the(p, "sync-cycle")
    assert f.interactions == ["a-to-b-get", "b-to-c-get", "c-to-a-get"]
    assert f.numbers == {"length": 3}
    assert "a -> b -> c -> a" in f.message


def test_sync_cycle_starts_at_the_link_written_first() -> None:
    p = plan(link("b", "c"), link("a", "b"), link("c", "a"))
    assert the(p, "sync-cycle").interactions == ["b-to-c-get", "c-to-a-get", "a-to-b-get"]


def test_sync_cycle_follows_within() -> None:
    cycle = plan(link("a", "b", within="Get"), link("b", "a", within="Get"))
    assert the(cycle, "sync-cycle").interactions == ["a-to-b-get", "b-to-a-get"]


def test_no_sync_cycle_when_within_rules_it_out() -> None:
    # a.Get calls b.Get, b.Other calls a.Get: no call ever waits on itself.
    p = plan(link("a", "b", within="Get"), link("b", "a", within="Other"))
    assert found(p, "sync-cycle") == []


def test_no_sync_cycle_through_an_async_link() -> None:
    p = plan(link("a", "b"), link("b", "a", "background", "OrderCreated"))
    assert found(p, "sync-cycle") == []


# -- sync-chain-depth -------------------------------------------------------------------------------
def test_sync_chain_depth_within_the_limit() -> None:
    assert_clean(plan(*chain("a", "b", "c")))  # 3 hops, the default limit


def test_sync_chain_depth_over_the_limit() -> None:
    p = plan(*chain("a", "b", "c", "d"))
    f = the(p, "sync-chain-depth")
    assert f.severity == "warning"
    assert f.interactions == ["web-to-a-get", "a-to-b-get", "b-to-c-get", "c-to-d-get"]
    assert f.numbers == {"depth": 4, "limit": 3}
    assert "(web -> a -> b -> c -> d)" in f.message


def test_sync_chain_depth_limit_comes_from_settings() -> None:
    assert found(plan(*chain("a", "b", "c", "d"), settings={"max_sync_depth": 4}), "sync-chain-depth") == []
    p = plan(*chain("a", "b"), settings={"max_sync_depth": 1})
    assert the(p, "sync-chain-depth").numbers == {"depth": 2, "limit": 1}


def test_sync_chain_starts_at_a_service_nobody_calls() -> None:
    hops = [link("a", "b"), link("b", "c", within="Get"), link("c", "d", within="Get"), link("d", "e", within="Get")]
    assert the(plan(*hops), "sync-chain-depth").interactions[0] == "a-to-b-get"


def test_sync_chain_follows_within_and_ignores_async_hops() -> None:
    hops = [*chain("a", "b", "c"), link("c", "d", within="Other"), link("c", "e", "background", "OrderCreated")]
    assert found(plan(*hops), "sync-chain-depth") == []


# -- timeout-budget ---------------------------------------------------------------------------------
def test_timeout_budget_broken_by_an_override() -> None:
    p = plan(link("web", "a"), link("a", "b", within="Get", resilience={"total_timeout_ms": 5000}))
    f = the(p, "timeout-budget")
    assert (f.severity, f.interactions) == ("error", ["web-to-a-get", "a-to-b-get"])
    assert f.numbers == {"caller_total_ms": 3000, "callee_worst_ms": 5000}
    assert "raise this link's total timeout above 5000 ms" in f.fix


def test_timeout_budget_sums_sequential_calls() -> None:
    p = plan(
        link("web", "a"),
        link("a", "b", within="Get", resilience={"total_timeout_ms": 1600}),
        link("a", "c", within="Get", resilience={"total_timeout_ms": 1600}),
    )
    f = the(p, "timeout-budget")
    assert f.interactions == ["web-to-a-get", "a-to-b-get", "a-to-c-get"]
    assert f.numbers == {"caller_total_ms": 3000, "callee_worst_ms": 3200}


def test_timeout_budget_attempt_shorter_than_the_callee_is_a_warning() -> None:
    caller = {"attempt_timeout_ms": 1000, "total_timeout_ms": 3000, "max_attempts": 1}
    p = plan(link("web", "a", resilience=caller), link("a", "b", within="Get", resilience={"total_timeout_ms": 2000}))
    f = the(p, "timeout-budget")
    assert (f.severity, f.interactions) == ("warning", ["web-to-a-get", "a-to-b-get"])
    assert f.numbers == {"caller_attempt_ms": 1000, "callee_worst_ms": 2000}


def test_timeout_budget_holds_by_default() -> None:
    hops = [*chain("a", "b", "c"), link("a", "d", within="Get"), link("a", "e", within="Get")]
    assert found(plan(*hops), "timeout-budget") == []


def test_timeout_budget_ignores_calls_made_during_other_operations() -> None:
    p = plan(link("web", "a"), link("a", "b", within="Other", resilience={"total_timeout_ms": 9000}))
    assert found(p, "timeout-budget") == []


# -- latency-budget ---------------------------------------------------------------------------------
def test_latency_budget_exceeded_by_an_override() -> None:
    p = plan(link("a", "b", latency_budget_ms=2000, resilience={"total_timeout_ms": 2500}))
    f = the(p, "latency-budget")
    assert (f.severity, f.interactions, f.numbers) == (
        "error",
        ["a-to-b-get"],
        {"budget_ms": 2000, "total_timeout_ms": 2500},
    )


def test_latency_budget_met() -> None:
    assert_clean(plan(link("a", "b", latency_budget_ms=2000)))
    assert_clean(plan(link("a", "b", latency_budget_ms=2000, resilience={"total_timeout_ms": 2000})))


# -- retry-amplification and retry-layers -----------------------------------------------------------
def test_retry_amplification() -> None:
    p = plan(*chain("a", "b", "c", resilience={"max_attempts": 3}))
    f = the(p, "retry-amplification")
    assert f.severity == "error"
    assert f.interactions == ["web-to-a-get", "a-to-b-get", "b-to-c-get"]
    assert f.numbers == {"attempts": 27, "limit": 10}
    assert "(3 x 3 x 3)" in f.message
    assert found(p, "retry-layers") == []  # the error says it all


def test_retry_amplification_limit_comes_from_settings() -> None:
    p = plan(*chain("a", "b", "c", resilience={"max_attempts": 3}), settings={"max_retry_amplification": 27})
    assert found(p, "retry-amplification") == []
    f = the(p, "retry-layers")
    assert (f.severity, f.numbers) == ("warning", {"layers": 3, "attempts": 27})


def test_mesh_retries_count_in_the_amplification() -> None:
    p = plan(*chain("a", "b", resilience={"max_attempts": 2, "mesh_retry_attempts": 2}))
    f = the(p, "retry-amplification")
    assert f.numbers == {"attempts": 36, "limit": 10}  # (2 x 3) x (2 x 3)


def test_no_retry_amplification_by_default() -> None:
    p = plan(*chain("a", "b", "c", "d"), settings={"max_sync_depth": 9})
    assert_clean(p)


def test_retry_layers_along_a_chain() -> None:
    p = plan(link("web", "a", resilience={"max_attempts": 2}), link("a", "b", within="Get"))
    f = the(p, "retry-layers")
    assert (f.severity, f.interactions) == ("warning", ["web-to-a-get", "a-to-b-get"])
    assert f.numbers == {"layers": 2, "attempts": 6}
    assert "(web -> a -> b)" in f.message


def test_retry_layers_reported_once_for_branches_below() -> None:
    once = {"max_attempts": 1}
    p = plan(
        link("web", "a", resilience={"max_attempts": 2}),
        link("a", "b", within="Get", resilience={"max_attempts": 2}),
        link("b", "c", within="Get", resilience=once),
        link("b", "d", within="Get", resilience=once),
    )
    f = the(p, "retry-layers")
    assert f.interactions == ["web-to-a-get", "a-to-b-get"]
    assert "(web -> a -> b)" in f.message


def test_retry_layers_app_and_mesh() -> None:
    p = plan(link("a", "b", resilience={"mesh_retry_attempts": 2}))
    f = the(p, "retry-layers")
    assert (f.severity, f.interactions) == ("warning", ["a-to-b-get"])
    assert f.numbers == {"app_attempts": 3, "mesh_retries": 2}
    assert "(9 in all)" in f.message


def test_mesh_retries_alone_are_one_layer() -> None:
    assert_clean(plan(link("a", "b", resilience={"mesh_retry_attempts": 2, "max_attempts": 1})))


# -- retry-non-idempotent ---------------------------------------------------------------------------
def test_retry_non_idempotent_to_an_api_without_keys() -> None:
    p = plan(link("a", "ext", "external-integration", "Post", resilience={"max_attempts": 3}))
    f = the(p, "retry-non-idempotent")
    assert (f.severity, f.interactions, f.numbers) == ("error", ["a-to-ext-post"], {"max_attempts": 3})
    assert f.message.startswith("`Post` is not idempotent and has no idempotency key, yet it is tried 3 times")


def test_retry_non_idempotent_without_the_key() -> None:
    p = plan(link("a", "b", what="Post", resilience={"max_attempts": 2, "idempotency_key": False}))
    assert the(p, "retry-non-idempotent").numbers == {"max_attempts": 2}


@pytest.mark.parametrize(
    "inter",
    [
        link("a", "ext", "external-integration", "Post"),  # tried once by default
        link("a", "b", what="Post", resilience={"max_attempts": 3}),  # the key makes it safe
        link("a", "b", what="Post", idempotent=True, resilience={"max_attempts": 3}),
        link("a", "b", what="Post", performance_critical=True),  # gRPC retries only UNAVAILABLE
    ],
)
def test_no_retry_non_idempotent(inter: dict[str, Any]) -> None:
    assert found(plan(inter), "retry-non-idempotent") == []


# -- override-reason and pattern-shape --------------------------------------------------------------
def test_override_reason_missing() -> None:
    p = plan(link("a", "b", "background", "OrderCreated", pattern="stream"))
    f = the(p, "override-reason")
    assert (f.severity, f.interactions) == ("error", ["a-to-b-order-created"])
    assert f.message == "`pattern: stream` overrides the decision for a background link without a reason"


def test_override_reason_given() -> None:
    assert_clean(plan(link("a", "b", "background", "OrderCreated", pattern="stream", reason="replay")))


def test_pattern_shape_sync_link_with_a_message() -> None:
    p = plan(link("a", "b", what="OrderCreated"))
    f = the(p, "pattern-shape")
    assert (f.severity, f.interactions) == ("error", ["a-to-b-order-created"])
    assert f.message == "a rest link calls an operation, but this one carries message `OrderCreated`"


def test_pattern_shape_async_link_with_an_operation() -> None:
    p = plan(link("a", "b", "background", "Post"))
    f = the(p, "pattern-shape")
    assert f.message == "a queue link carries a message, but this one calls `Post`"


def test_pattern_shape_webhook_with_an_operation() -> None:
    p = plan(link("a", "ext", "external-integration", "Post", pattern="webhook", reason="r"))
    assert the(p, "pattern-shape").message == "a webhook link carries a message, but this one calls `Post`"


def test_pattern_shape_holds() -> None:
    assert_clean(plan(link("a", "b"), link("a", "c", "background", "OrderCreated")))


# -- response-needed and response-not-needed --------------------------------------------------------
def test_response_needed_on_an_async_link() -> None:
    p = plan(link("a", "b", "background", "OrderCreated", needs_immediate_response=True))
    f = the(p, "response-needed")
    assert (f.severity, f.interactions) == ("warning", ["a-to-b-order-created"])
    assert "the link is queue" in f.message


def test_response_needed_on_a_sync_link() -> None:
    assert_clean(plan(link("a", "b", needs_immediate_response=True)))


def test_response_needed_skipped_when_the_override_is_explained() -> None:
    inter = link("a", "b", what="OrderCreated", needs_immediate_response=True, pattern="queue", reason="we poll")
    assert_clean(plan(inter))


def test_response_not_needed_on_a_sync_link() -> None:
    p = plan(link("a", "b", needs_immediate_response=False))
    f = the(p, "response-not-needed")
    assert (f.severity, f.interactions) == ("warning", ["a-to-b-get"])


@pytest.mark.parametrize(
    "inter",
    [
        link("a", "b", needs_immediate_response=None),
        link("a", "b", "background", "OrderCreated", needs_immediate_response=False),
        link("a", "b", "background", needs_immediate_response=False, pattern="rest", reason="legacy"),
    ],
)
def test_no_response_not_needed(inter: dict[str, Any]) -> None:
    assert found(plan(inter), "response-not-needed") == []


# -- ordering -------------------------------------------------------------------------------------
def test_queue_ordering() -> None:
    p = plan(link("a", "b", "background", "OrderCreated", ordered=True))
    f = the(p, "queue-ordering")
    assert (f.severity, f.interactions) == ("warning", ["a-to-b-order-created"])


def test_queue_without_ordering() -> None:
    assert_clean(plan(link("a", "b", "background", "OrderCreated")))


def test_stream_ordering_key_missing() -> None:
    p = plan(link("a", "b", "analytics", "OrderCreated", ordered=True))
    f = the(p, "stream-ordering-key")
    assert (f.severity, f.interactions) == ("error", ["a-to-b-order-created"])


KEYED = {"OrderCreated": {"schema": {"type": "object", "properties": {"order_id": {"type": "integer"}}}}}


def test_stream_ordering_key_given() -> None:
    inter = link("a", "b", "analytics", "OrderCreated", ordered=True, ordering_key="order_id")
    assert_clean(plan(inter, messages=KEYED))
    channels = {"orders": {"message": "OrderCreated", "key": "order_id"}}
    inter = link("a", "b", "analytics", "OrderCreated", channel="orders", ordered=True)
    assert_clean(plan(inter, channels=channels, messages=KEYED))


def test_stream_key_not_a_field() -> None:
    p = plan(link("a", "b", "analytics", "OrderCreated", ordering_key="user_id"), messages=KEYED)
    f = the(p, "stream-key-not-a-field")
    assert (f.severity, f.interactions) == ("error", ["a-to-b-order-created"])
    assert f.message == (
        "partition key `user_id` is not a top-level field of message `OrderCreated` (fields: `order_id`)"
    )


# -- the ends of a link -----------------------------------------------------------------------------
@pytest.mark.parametrize(("use_case", "pattern"), [("background", "queue"), ("analytics", "stream")])
def test_async_external(use_case: str, pattern: str) -> None:
    p = plan(link("a", "ext", use_case, "OrderCreated"))
    f = the(p, "async-external")
    assert (f.severity, f.interactions) == ("error", ["a-to-ext-order-created"])
    assert f.message == f"a {pattern} link needs a service of this system at both ends"


def test_webhook_ends_between_two_services() -> None:
    p = plan(link("a", "b", "external-integration", "OrderCreated"))
    f = the(p, "webhook-ends")
    assert (f.severity, f.interactions) == ("error", ["a-to-b-order-created"])


@pytest.mark.parametrize(
    "inter",
    [
        link("a", "ext", "external-integration", "OrderCreated"),
        link("ext", "a", "external-integration", "OrderCreated"),
    ],
)
def test_webhook_ends_with_a_third_party(inter: dict[str, Any]) -> None:
    assert_clean(plan(inter))


@pytest.mark.parametrize(
    "inter",
    [
        link("a", "ext", "high-throughput-internal"),
        link("a", "ext", "user-facing", performance_critical=True),
        link("a", "ext", "external-integration", pattern="grpc", reason="their SDK"),
    ],
)
def test_grpc_external(inter: dict[str, Any]) -> None:
    f = the(plan(inter), "grpc-external")
    assert (f.severity, f.interactions) == ("error", ["a-to-ext-get"])
    assert f.message == "`ext` is outside the system; scaffold cannot serve gRPC for it"


def test_grpc_to_a_service() -> None:
    assert_clean(plan(link("a", "b", "high-throughput-internal")))


def test_rest_streaming() -> None:
    p = plan(link("web", "a", what="Watch"))
    f = the(p, "rest-streaming")
    assert (f.severity, f.interactions) == ("error", ["web-to-a-watch"])
    assert f.message == "`Watch` streams (server) but the link is REST, which cannot stream it"


def test_streaming_internally_is_grpc() -> None:
    assert_clean(plan(link("a", "b", what="Watch")))


# -- resilience values ------------------------------------------------------------------------------
def test_grpc_max_attempts() -> None:
    p = plan(link("a", "b", "high-throughput-internal", resilience={"max_attempts": 7, "total_timeout_ms": 5000}))
    f = the(p, "grpc-max-attempts")
    assert (f.severity, f.interactions, f.numbers) == ("error", ["a-to-b-get"], {"max_attempts": 7})
    assert_clean(
        plan(link("a", "b", "high-throughput-internal", resilience={"max_attempts": 5, "total_timeout_ms": 5000}))
    )


def test_resilience_override() -> None:
    p = plan(link("a", "b", resilience={"prefetch": 3, "tolerance_s": 60}))
    assert [(f.severity, f.interactions, f.message) for f in found(p, "resilience-override")] == [
        ("error", ["a-to-b-get"], "`resilience.prefetch` does not apply to a rest link"),
        ("error", ["a-to-b-get"], "`resilience.tolerance_s` does not apply to a rest link"),
    ]


def test_resilience_override_that_applies() -> None:
    assert_clean(plan(link("a", "b", "background", "OrderCreated", resilience={"prefetch": 3})))


def test_timeout_order_attempt_longer_than_total() -> None:
    p = plan(link("a", "b", resilience={"attempt_timeout_ms": 4000, "total_timeout_ms": 3000}))
    f = the(p, "timeout-order")
    assert (f.severity, f.numbers) == ("error", {"total_timeout_ms": 3000, "attempt_timeout_ms": 4000})


def test_timeout_order_backoff_longer_than_total() -> None:
    p = plan(link("a", "b", "high-throughput-internal", resilience={"max_attempts": 5, "total_timeout_ms": 1000}))
    f = the(p, "timeout-order")
    assert (f.severity, f.numbers) == ("error", {"total_timeout_ms": 1000, "backoff_ms": 1500})


def test_timeout_order_holds() -> None:
    assert_clean(plan(link("a", "b", resilience={"attempt_timeout_ms": 3000, "total_timeout_ms": 3000})))


def test_timeout_too_long_for_a_user() -> None:
    p = plan(link("a", "b", resilience={"total_timeout_ms": 30000}))
    f = the(p, "timeout-too-long")
    assert (f.severity, f.interactions, f.numbers) == ("warning", ["a-to-b-get"], {"total_timeout_ms": 30000})


@pytest.mark.parametrize(
    "inter",
    [
        link("a", "b", resilience={"total_timeout_ms": 29999}),
        link("a", "ext", "external-integration", resilience={"total_timeout_ms": 60000}),  # nobody waits
    ],
)
def test_timeout_not_too_long(inter: dict[str, Any]) -> None:
    assert found(plan(inter), "timeout-too-long") == []


# -- channels and messages --------------------------------------------------------------------------
CHANNELS = {"orders": {"message": "OrderCreated"}}


def test_unconsumed_channel() -> None:
    services = {**BASE["services"], "a": {"publishes": ["orders"]}}
    p = plan(services=services, channels=CHANNELS)
    f = the(p, "unconsumed-channel")
    assert (f.severity, f.interactions) == ("warning", [])
    assert f.message == "channel `orders` is published by a but nobody consumes it"


def test_unpublished_channel() -> None:
    services = {**BASE["services"], "b": {"consumes": ["orders"]}}
    f = the(plan(services=services, channels=CHANNELS), "unpublished-channel")
    assert (f.severity, f.message) == ("warning", "channel `orders` is consumed by b but nobody publishes it")


def test_unused_channel() -> None:
    f = the(plan(channels=CHANNELS), "unused-channel")
    assert (f.severity, f.message) == ("warning", "channel `orders` is declared but unused")


def test_channel_used_by_publishes_and_consumes() -> None:
    services = {**BASE["services"], "a": {"publishes": ["orders"]}, "b": {"consumes": ["orders"]}}
    assert_clean(plan(services=services, channels=CHANNELS))


def test_channel_used_by_an_interaction() -> None:
    assert_clean(plan(link("a", "b", "analytics", "OrderCreated", channel="orders"), channels=CHANNELS))


def test_unused_message() -> None:
    p = plan(link("a", "b"), messages={**BASE["messages"], "Spare": OBJECT})
    f = the(p, "unused-message")
    assert (f.severity, f.interactions) == ("warning", [])
    assert f.message == "message `Spare` is defined but no operation, channel or interaction uses it"


@pytest.mark.parametrize(
    "sections",
    [
        {
            "channels": {"spares": {"message": "Spare"}},
            "services": {**BASE["services"], "a": {"publishes": ["spares"]}, "b": {"consumes": ["spares"]}},
        },
        {"services": {**BASE["services"], "a": {"operations": {"Get": {"response": "Spare"}}}}},
    ],
)
def test_message_used(sections: dict[str, Any]) -> None:
    p = plan(messages={**BASE["messages"], "Spare": OBJECT}, **sections)
    assert found(p, "unused-message") == []


def test_message_used_by_an_interaction_only() -> None:
    inter = {"from": "a", "to": "b", "use_case": "background", "message": "Spare"}
    p = plan(inter, messages={**BASE["messages"], "Spare": OBJECT})
    assert found(p, "unused-message") == []


# -- findings carry lines, and the plan is sorted -----------------------------------------------------
def test_findings_point_at_the_interaction_line() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        name: t
        services:
          a: {operations: {Get: {http: {method: GET, path: /x}}}}
          b: {operations: {Get: {http: {method: GET, path: /x}}}}
        interactions:
          - {from: a, to: b, use_case: user-facing, operation: Get}
          - {from: b, to: a, use_case: user-facing, operation: Get}
        """
    )
    p = build_plan(resolve(parse_yaml(text, "t.yaml"), Path(".")))
    assert [i.line for i in p.interactions] == [7, 8]
    assert the(p, "sync-cycle").line == 7


def test_errors_come_before_warnings() -> None:
    p = plan(
        link("a", "b", "background", "OrderCreated", ordered=True),
        link("a", "c", "analytics", "OrderCreated", ordered=True),
    )
    assert [f.severity for f in p.findings] == ["error", "warning"]


# -- the command line -------------------------------------------------------------------------------
def write(tmp_path: Path, *interactions: dict[str, Any], **sections: Any) -> str:
    path = tmp_path / "spec.json"  # JSON is YAML
    path.write_text(json.dumps({**BASE, **sections, "interactions": list(interactions)}), encoding="utf-8")
    return str(path)


def test_check_exits_0_when_clean(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", write(tmp_path, link("a", "b"))])
    assert result.exit_code == 0, result.output
    assert "1 interactions, 0 errors, 0 warnings" in result.output


def test_check_exits_0_with_warnings(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["check", write(tmp_path, link("a", "b", "background", "OrderCreated", ordered=True))]
    )
    assert result.exit_code == 0, result.output
    assert "warning[queue-ordering]" in result.output
    assert "0 errors, 1 warning" in result.output


def test_check_exits_1_on_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", write(tmp_path, link("a", "b"), link("b", "a"))])
    assert result.exit_code == 1, result.output
    assert "error[sync-cycle]" in result.output


def test_check_exits_2_on_an_invalid_spec(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", write(tmp_path, link("a", "zz"))])
    assert result.exit_code == 2
    assert "unknown service or external `zz`" in result.output


MARKETPLACE_FINDINGS = [
    ("error", "grpc-max-attempts", ["search-to-catalog-list-products"]),
    ("error", "override-reason", ["checkout-to-audit-checkout-attempted"]),
    (
        "error",
        "retry-amplification",
        ["web-to-gateway-add-to-cart", "gateway-to-cart-add-item", "cart-to-inventory-get-stock"],
    ),
    ("error", "retry-non-idempotent", ["shipping-to-carrier-api-create-label"]),
    ("error", "stream-ordering-key", ["order-to-analytics-order-placed"]),
    ("error", "sync-cycle", ["catalog-to-recommendation-get-related", "recommendation-to-catalog-get-product"]),
    ("error", "timeout-budget", ["gateway-to-search-search", "search-to-pricing-get-prices"]),
    ("error", "timeout-budget", ["recommendation-to-catalog-get-product", "catalog-to-recommendation-get-related"]),
    (
        "warning",
        "sync-chain-depth",
        [
            "web-to-gateway-place-order",
            "gateway-to-checkout-checkout",
            "checkout-to-order-create-order",
            "order-to-payment-authorize-payment",
            "payment-to-fraud-score-transaction",
        ],
    ),
    ("warning", "unconsumed-channel", []),
    ("warning", "unused-message", []),
]


def test_marketplace_check_lists_the_intended_findings() -> None:
    result = CliRunner().invoke(main, ["check", str(MARKETPLACE)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().endswith("30 interactions, 8 errors, 3 warnings")
    headings = re.findall(r"^\S+ (error|warning)\[([a-z-]+)\]", result.output, re.MULTILINE)
    assert headings == [(severity, rule) for severity, rule, _ in MARKETPLACE_FINDINGS]
    for text in (
        "attempts multiply to 27 along web -> gateway -> cart -> inventory (3 x 3 x 3), above 10",
        "synchronous cycle catalog -> recommendation -> catalog",
        "`gateway` waits at most 2700 ms for `search`, but `search` may wait 3000 ms",
        "max_attempts 7 on a gRPC link",
        "`CreateLabel` is not idempotent and has no idempotency key, yet it is tried 4 times",
        "a user request waits on 5 synchronous hops",
        "channel `recommendation.served` is published by recommendation but nobody consumes it",
        "message `GiftCardIssued` is defined",
    ):
        assert text in result.output


def test_marketplace_plan_findings() -> None:
    result = CliRunner().invoke(main, ["plan", str(MARKETPLACE), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [(f["severity"], f["rule"], f["interactions"]) for f in data["findings"]] == MARKETPLACE_FINDINGS
    numbers = {f["rule"]: f["numbers"] for f in data["findings"]}
    assert numbers["retry-amplification"] == {"attempts": 27, "limit": 10}
    assert numbers["sync-chain-depth"] == {"depth": 5, "limit": 4}
    assert numbers["grpc-max-attempts"] == {"max_attempts": 7}
    assert numbers["retry-non-idempotent"] == {"max_attempts": 4}
    # All five use cases and all five patterns; the explained override is not reported.
    assert {i["use_case"] for i in data["interactions"]} == {
        "user-facing",
        "background",
        "analytics",
        "high-throughput-internal",
        "external-integration",
    }
    assert {i["pattern"] for i in data["interactions"]} == {"rest", "grpc", "queue", "stream", "webhook"}
    flagged = {i for f in data["findings"] for i in f["interactions"]}
    assert "inventory-to-search-stock-changed" not in flagged
    webhooks = {i["id"]: i["resilience"]["direction"] for i in data["interactions"] if i["pattern"] == "webhook"}
    assert sorted(webhooks.values()) == ["inbound", "outbound"]


def test_every_finding_rule_has_tests() -> None:
    # Every `finding(..., "error" | "warning", "<rule>", ...)` in the checks, as written in their source.
    from scaffold.plan import checks

    modules = [importlib.import_module(f"{checks.__name__}.{m.name}") for m in pkgutil.iter_modules(checks.__path__)]
    source = "".join(inspect.getsource(module) for module in modules)
    emitted = set(re.findall(r'"(?:error|warning)",\s*"([a-z-]+)"', source))
    assert emitted == {
        "sync-cycle",
        "sync-chain-depth",
        "timeout-budget",
        "latency-budget",
        "retry-amplification",
        "retry-layers",
        "retry-non-idempotent",
        "override-reason",
        "pattern-shape",
        "response-needed",
        "response-not-needed",
        "queue-ordering",
        "stream-ordering-key",
        "stream-key-not-a-field",
        "async-external",
        "webhook-ends",
        "grpc-external",
        "rest-streaming",
        "grpc-max-attempts",
        "resilience-override",
        "timeout-order",
        "timeout-too-long",
        "unconsumed-channel",
        "unpublished-channel",
        "unused-channel",
        "unused-message",
    }
    tests = [name for name in globals() if name.startswith("test_")]
    untested = [rule for rule in emitted if not any(rule.replace("-", "_") in name for name in tests)]
    assert untested == []


def test_spec_readme_documents_every_field_rule_and_check() -> None:
    from scaffold.plan import checks, resilience
    from scaffold.plan.rules import RULES
    from scaffold.spec import model

    text = (ROOT / "specs" / "README.md").read_text(encoding="utf-8")
    spans = re.findall(r"`([^`\n]+)`", text)

    def documented(name: str) -> bool:
        word = re.compile(rf"(?<![\w$-]){re.escape(name)}(?![\w-])")
        return any(word.search(span) for span in spans)

    models = [
        model.Spec,
        model.Settings,
        model.Message,
        model.Channel,
        model.Service,
        model.Operation,
        model.HttpBinding,
        model.Contracts,
        model.External,
        model.Interaction,
        model.ResilienceOverrides,
    ]
    fields = {info.alias or name for m in models for name, info in m.model_fields.items()}
    source = inspect.getsource(checks) + inspect.getsource(resilience)
    findings = set(re.findall(r'"(?:error|warning)",\s*"([a-z-]+)"', source))
    names = fields | findings | {r.name for r in RULES} | set(model.USE_CASES) | set(model.PATTERNS)
    assert sorted(n for n in names if not documented(n)) == []


# -- dense call graphs: the checks combine what they learn link by link instead of walking every
# path, so graphs with millions of paths are checked in a moment, with the findings a walk of every
# path would give.
def dense(
    links: list[tuple[str, str]],
    entries: list[str],
    overrides: dict[tuple[str, str], Any] | None = None,
    **settings: Any,
) -> Plan:
    names = sorted({s for pair in links for s in pair} | set(entries))
    interactions = [link("web", e) for e in entries]
    for source, target in links:
        given = (overrides or {}).get((source, target))
        interactions.append(link(source, target, **({"resilience": given} if given else {})))
    data = {
        **BASE,
        "services": {name: {"operations": {"Get": {"http": GET}}} for name in names},
        "interactions": interactions,
        "settings": settings,
    }
    return build_plan(resolve(Source(path="t.yaml", data=data), Path(".")))


def layers(count: int) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """`count` layers of two services, each calling both services of the next layer (2**count paths)."""
    grid = [[f"l{i}w{j}" for j in range(2)] for i in range(count)]
    return [(a, b) for upper, lower in itertools.pairwise(grid) for a in upper for b in lower], grid


def ids(*services: str) -> list[str]:
    return [f"{s}-to-{t}-get" for s, t in itertools.pairwise(services)]


def test_deepest_chain_of_a_dense_dag() -> None:
    # Every service calls every later one: 2**23 paths from s0 to s24.
    names = [f"s{i:02}" for i in range(25)]
    p = dense([(a, b) for i, a in enumerate(names) for b in names[i + 1 :]], [names[0]], max_sync_depth=20)
    deep = the(p, "sync-chain-depth")
    assert deep.interactions == ids("web", *names)
    assert deep.numbers == {"depth": 25, "limit": 20}
    assert found(p, "sync-cycle") == []


def test_deepest_chain_of_a_layered_graph_is_the_first_met() -> None:
    links, grid = layers(30)
    p = dense(links, grid[0])
    deep = found(p, "sync-chain-depth")
    # One per entry, each the first of the 2**29 equally deep chains a depth-first walk meets.
    assert [f.interactions for f in deep] == [
        ids("web", "l0w0", *(row[0] for row in grid[1:])),
        ids("web", "l0w1", *(row[0] for row in grid[1:])),
    ]
    assert {f.numbers["depth"] for f in deep} == {30}


def test_retry_amplification_on_a_layered_graph() -> None:
    links, grid = layers(12)
    p = dense(links, grid[0], {pair: {"max_attempts": 2} for pair in links}, max_retry_amplification=1000)
    storms = found(p, "retry-amplification")
    assert [f.interactions for f in storms] == [
        ids("web", "l0w0", *(row[0] for row in grid[1:])),
        ids("web", "l0w1", *(row[0] for row in grid[1:])),
    ]
    assert {f.numbers["attempts"] for f in storms} == {2**11}


def test_retry_layers_on_a_layered_graph_once_per_pair_of_layers() -> None:
    # Only the calls from layer 3 to 4 and from layer 10 to 11 retry: each chain of the 2**19 retries
    # at two of them, 4 x 4 pairs per entry.
    links, grid = layers(20)
    retrying = {pair for pair in links if pair[0][:3] in ("l3w", "l10")}
    given = {pair: {"max_attempts": 2 if pair in retrying else 1} for pair in links}
    p = dense(links, grid[0], given)
    layered = found(p, "retry-layers")
    assert len(layered) == 2 * 16
    assert all(f.numbers == {"layers": 2, "attempts": 4} for f in layered)
    assert {tuple(f.interactions) for f in layered} == {
        (f"{a}-to-{b}-get", f"{c}-to-{d}-get")
        for (a, b) in retrying
        for (c, d) in retrying
        if a.startswith("l3w") and c.startswith("l10")
    }
    # The path reported is the first a depth-first walk meets: through l3w1, it leaves l2w0 for l3w1.
    first = next(
        f
        for f in layered
        if f.interactions == ["l3w1-to-l4w0-get", "l10w1-to-l11w1-get"] and "web -> l0w0" in f.message
    )
    path = " -> ".join(["web", "l0w0", "l1w0", "l2w0", "l3w1", *(f"l{i}w0" for i in range(4, 10)), "l10w1", "l11w1"])
    assert f"({path})" in first.message


def test_every_link_of_a_dense_cycle_is_named_with_its_shortest_cycle() -> None:
    # Six services calling each other: hundreds of cycles; each link is reported with the shortest
    # cycle through it (here the pair calling each other), each cycle once.
    names = [f"s{i}" for i in range(6)]
    p = dense([(a, b) for a in names for b in names if a != b], ["s0"])
    cycles = found(p, "sync-cycle")
    assert sorted(f.interactions for f in cycles) == sorted(
        ids(a, b, a) for i, a in enumerate(names) for b in names[i + 1 :]
    )
    assert all(f.numbers == {"length": 2} for f in cycles)


def test_a_long_chain_fits_in_the_stack() -> None:
    names = [f"s{i:04}" for i in range(1500)]
    p = dense(list(itertools.pairwise(names)), [names[0]], max_sync_depth=20)
    assert the(p, "sync-chain-depth").numbers == {"depth": 1500, "limit": 20}
