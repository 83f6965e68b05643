"""Concrete resilience values per pattern, overrides, their validation, and timeouts along chains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scaffold.plan.defaults import DEFAULTS, lookup, schedule_text, value
from scaffold.plan.engine import build_plan
from scaffold.plan.model import Finding, Plan
from scaffold.plan.resilience import APPLICABLE, backoff_worst_ms
from scaffold.spec.load import resolve
from scaffold.spec.model import USE_CASES, ResilienceOverrides
from scaffold.spec.yaml_source import Source

ROOT = Path(__file__).resolve().parent.parent
OBJECT = {"schema": {"type": "object"}}
GET = {"method": "GET", "path": "/x"}

# `web` calls `a`, which calls `b` and `c`, which call `d`. Every service offers `Get` (idempotent)
# and `Post` (not idempotent). `ext` is a third-party API without, `keyed` one with idempotency keys.
BASE: dict[str, Any] = {
    "version": 1,
    "name": "t",
    "messages": {"OrderCreated": OBJECT},
    "services": {
        name: {"operations": {"Get": {"http": GET}, "Post": {"request": "OrderCreated"}, "Other": {"http": GET}}}
        for name in "abcd"
    },
    "externals": {
        "web": {"kind": "client"},
        "ext": {"kind": "api", "operations": {"Post": {}, "Get": {"http": GET}}},
        "keyed": {"kind": "api", "accepts_idempotency_key": True, "operations": {"Post": {}}},
    },
}


def plan(*interactions: dict[str, Any], **sections: Any) -> Plan:
    data = {**BASE, **sections, "interactions": list(interactions)}
    return build_plan(resolve(Source(path="t.yaml", data=data), Path(".")))


def link(source: str, target: str, use_case: str = "user-facing", what: str = "Get", **fields: Any) -> dict[str, Any]:
    key = "message" if what == "OrderCreated" else "operation"
    return {"from": source, "to": target, "use_case": use_case, key: what, **fields}


def values(p: Plan, interaction_id: str) -> dict[str, Any]:
    (item,) = [i for i in p.interactions if i.id == interaction_id]
    return item.resilience


def one(*interactions: dict[str, Any], **sections: Any) -> dict[str, Any]:
    """The values of the last interaction."""
    return plan(*interactions, **sections).interactions[-1].resilience


def rules(p: Plan) -> list[tuple[str, str, list[str]]]:
    return [(f.severity, f.rule, f.interactions) for f in p.findings]


def only_finding(p: Plan, rule: str) -> Finding:
    (finding,) = [f for f in p.findings if f.rule == rule]
    return finding


# -- REST -------------------------------------------------------------------------------------------
def test_user_facing_rest_defaults() -> None:
    v = one(link("web", "a"))
    assert v["total_timeout_ms"] == 3000
    # 3000 ms shared by 3 attempts after the worst backoff sleeps (100 + 200 ms), at most 1000 ms each.
    assert v["attempt_timeout_ms"] == (3000 - 300) // 3 == 900
    assert v["max_attempts"] == 3
    assert (v["method"], v["path"], v["idempotent"], v["idempotency_key"]) == ("GET", "/x", True, False)
    assert (v["backoff_initial_ms"], v["backoff_max_ms"], v["backoff_multiplier"]) == (100, 1000, 2)
    assert v["backoff_jitter"] == "full"
    assert v["retry_on"] == ["connect-error", "timeout", "408", "429", "5xx"]
    assert v["honour_retry_after"] is True
    assert v["retry_budget_ratio"] == 0.1
    assert (v["breaker_failure_threshold"], v["breaker_recovery_ms"]) == (5, 5000)
    assert v["breaker_counts"] == ["5xx", "timeout", "connect-error"]
    assert (v["concurrency_limit"], v["max_connections"], v["max_keepalive_connections"]) == (25, 100, 20)
    assert v["mesh_retry_attempts"] == 0


def test_user_facing_never_defaults_to_30_seconds() -> None:
    # The guide: 30 s is too long for a user. Every default a user-facing link can get is far below.
    for pattern in ("rest", "grpc"):
        # A stream's idle timeout is no wait for an answer: a user watching a stream sees every message.
        waits = {d.key for d in DEFAULTS if d.pattern == pattern and d.key.endswith("timeout_ms")}
        for key in waits - {"stream_idle_timeout_ms"}:
            assert lookup(pattern, key, "user-facing").value <= 3000, (pattern, key)
    assert value("rest", "attempt_timeout_ms", "user-facing") == 1000
    assert value("rest", "total_timeout_ms", "user-facing") == 3000
    assert value("grpc", "total_timeout_ms", "user-facing") == 3000
    p = plan(link("web", "a", what="Post"), link("a", "b", within="Post", performance_critical=True))
    assert values(p, "web-to-a-post")["total_timeout_ms"] == 3000
    assert values(p, "a-to-b-get")["total_timeout_ms"] == 2700
    assert not p.findings


@pytest.mark.parametrize("use_case", USE_CASES)
@pytest.mark.parametrize("pattern", ["rest", "grpc"])
def test_every_use_case_has_timeouts_for_synchronous_patterns(pattern: str, use_case: str) -> None:
    # A `pattern` override or a contract can make any use case synchronous.
    for key in {d.key for d in DEFAULTS if d.pattern == pattern and d.variant not in ("idempotent", "not idempotent")}:
        assert lookup(pattern, key, use_case).value is not None


def test_high_throughput_and_other_rest_timeouts() -> None:
    reason = {"reason": "r"}
    fast = one(link("a", "b", "high-throughput-internal", pattern="rest", **reason))
    assert (fast["attempt_timeout_ms"], fast["total_timeout_ms"]) == (233, 1000)
    other = one(link("a", "b", "background", pattern="rest", **reason))
    assert (other["attempt_timeout_ms"], other["total_timeout_ms"]) == (1566, 5000)


def test_non_idempotent_post_to_a_service_gets_a_key_and_retries() -> None:
    v = one(link("a", "b", what="Post"))
    assert (v["method"], v["path"]) == ("POST", "/post")
    assert v["idempotent"] is False
    assert v["idempotency_key"] is True
    assert v["max_attempts"] == 3


def test_non_idempotent_post_to_an_api_without_keys_is_tried_once() -> None:
    p = plan(link("a", "ext", "external-integration", "Post"))
    v = values(p, "a-to-ext-post")
    assert v["idempotency_key"] is False
    assert v["max_attempts"] == 1
    # One attempt: the external default of 5 s per attempt within 15 s in all.
    assert (v["attempt_timeout_ms"], v["total_timeout_ms"]) == (5000, 15000)
    assert not p.findings


def test_non_idempotent_post_to_an_api_with_keys_retries() -> None:
    v = one(link("a", "keyed", "external-integration", "Post"))
    assert (v["idempotency_key"], v["max_attempts"]) == (True, 3)
    assert v["attempt_timeout_ms"] == min(5000, (15000 - 300) // 3) == 4900


def test_idempotent_get_to_an_api_retries_without_key() -> None:
    v = one(link("a", "ext", "external-integration", "Get"))
    assert (v["idempotency_key"], v["max_attempts"]) == (False, 3)


def test_interaction_idempotent_overrides_the_operation() -> None:
    v = one(link("a", "ext", "external-integration", "Post", idempotent=True))
    assert (v["idempotent"], v["idempotency_key"], v["max_attempts"]) == (True, False, 3)


# -- gRPC -------------------------------------------------------------------------------------------
def test_grpc_non_idempotent_is_not_retried() -> None:
    """UNAVAILABLE does not prove that nothing happened; gRPC retries unsent calls transparently."""
    v = one(link("a", "b", what="Post", performance_critical=True))
    assert v["idempotent"] is False
    assert v["retryable_status_codes"] == []
    assert v["max_attempts"] == 1
    assert v["total_timeout_ms"] == 3000
    assert "attempt_timeout_ms" not in v  # a gRPC deadline covers every attempt
    assert (v["retry_throttling_max_tokens"], v["retry_throttling_token_ratio"]) == (10, 0.1)
    assert v["breaker_counts"] == ["UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "UNKNOWN"]
    assert (v["method"], v["streaming"], v["concurrency_limit"]) == ("Post", "none", 25)


def test_grpc_non_idempotent_retried_on_purpose_is_an_error() -> None:
    p = plan(link("a", "b", what="Post", performance_critical=True, resilience={"max_attempts": 3}))
    assert ("error", "retry-non-idempotent", ["a-to-b-post"]) in rules(p)


def test_grpc_interaction_idempotent_overrides_the_operation() -> None:
    v = one(link("a", "b", what="Post", performance_critical=True, idempotent=True))
    assert (v["idempotent"], v["max_attempts"], v["retryable_status_codes"]) == (True, 3, ["UNAVAILABLE", "ABORTED"])


def test_idempotency_key_only_for_post_and_patch() -> None:
    v = one(link("a", "b", what="Other", idempotent=False))
    assert (v["method"], v["idempotency_key"], v["max_attempts"]) == ("GET", False, 1)


def test_grpc_streams_get_an_idle_timeout_instead_of_a_deadline() -> None:
    streaming = {"Watch": {"streaming": "server"}}
    services = {name: {"operations": {**BASE["services"][name]["operations"], **streaming}} for name in "abcd"}
    p = plan(link("a", "b", what="Watch", performance_critical=True), link("b", "c", within="Watch"), services=services)
    watch, inner = values(p, "a-to-b-watch"), values(p, "b-to-c-get")
    assert "total_timeout_ms" not in watch
    assert watch["stream_idle_timeout_ms"] == 300000
    assert inner["total_timeout_ms"] == 3000, "a stream's callee gets its own deadline, not a share of none"
    assert not [f for f in p.findings if f.rule in ("timeout-budget", "timeout-order")]


def test_a_deadline_on_a_stream_is_refused() -> None:
    streaming = {"Watch": {"streaming": "server"}}
    services = {name: {"operations": {**BASE["services"][name]["operations"], **streaming}} for name in "abcd"}
    given = {"total_timeout_ms": 2700}
    p = plan(link("a", "b", what="Watch", performance_critical=True, resilience=given), services=services)
    assert only_finding(p, "resilience-override").message.startswith("`resilience.total_timeout_ms` does not apply")


def test_grpc_idempotent_adds_aborted() -> None:
    v = one(link("a", "b", performance_critical=True))
    assert v["retryable_status_codes"] == ["UNAVAILABLE", "ABORTED"]


def test_grpc_high_throughput_values() -> None:
    v = one(link("a", "b", "high-throughput-internal"))
    assert (v["total_timeout_ms"], v["concurrency_limit"], v["max_attempts"]) == (1000, 100, 3)


def test_grpc_on_other_use_cases_gets_general_values() -> None:
    # Used to raise KeyError: grpc.concurrency_limit had no value outside user-facing / high-throughput.
    v = one(link("a", "b", "background", pattern="grpc", reason="r"))
    assert (v["total_timeout_ms"], v["concurrency_limit"]) == (5000, 25)


# -- queue ------------------------------------------------------------------------------------------
def test_queue_values() -> None:
    v = one(link("a", "b", "background", "OrderCreated"))
    assert v == {
        "exchange": "order.created",
        "routing_key": "order.created",
        "queue": "order.created.b",
        "message": "OrderCreated",
        "queue_type": "quorum",
        "delivery_limit": 20,
        "dead_letter_exchange": "order.created.dlx",
        "dead_letter_queue": "order.created.b.dlq",
        "dead_letter_strategy": "at-least-once",
        "retry_delays_ms": [1000, 10000, 60000],
        "prefetch": 10,
        "publisher_confirms": True,
        "confirm_window": 256,
        "persistent": True,
        "manual_ack": True,
        "publish_timeout_ms": 5000,
        "publish_deadline_ms": 120000,
        "handler_timeout_ms": 60000,
        "dedupe_on": "message_id",
    }


def test_queue_per_consumer() -> None:
    p = plan(link("a", "b", "background", "OrderCreated"), link("a", "c", "background", "OrderCreated"))
    assert values(p, "a-to-b-order-created")["queue"] == "order.created.b"
    assert values(p, "a-to-c-order-created")["queue"] == "order.created.c"


# -- stream -----------------------------------------------------------------------------------------
def test_stream_values() -> None:
    v = one(link("a", "b", "analytics", "OrderCreated"))
    assert v == {
        "topic": "order.created",
        "message": "OrderCreated",
        "partition_key": None,
        "consumer_group": "b",
        "retry_topic": "order.created.b.retry",
        "dead_letter_topic": "order.created.b.dlt",
        "retry_delays_ms": [1000, 10000, 60000],
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight": 5,
        "linger_ms": 5,
        "delivery_timeout_ms": 120000,
        "partitioner": "murmur2_random",
        "partitions": 6,
        "replication_factor": 3,
        "min_insync_replicas": 2,
        "enable_auto_commit": False,
        "commit": "after-processing",
        "max_poll_interval_ms": 300000,
        "buffer_per_partition": 500,
        "auto_offset_reset": "earliest",
        "handler_timeout_ms": 60000,
        "dedupe_on": "message_id",
    }


def test_stream_consumer_group_per_consuming_service() -> None:
    p = plan(link("a", "b", "analytics", "OrderCreated"), link("a", "c", "analytics", "OrderCreated"))
    b, c = values(p, "a-to-b-order-created"), values(p, "a-to-c-order-created")
    assert (b["consumer_group"], c["consumer_group"]) == ("b", "c")
    assert (b["topic"], c["topic"]) == ("order.created", "order.created")
    assert (b["dead_letter_topic"], c["dead_letter_topic"]) == ("order.created.b.dlt", "order.created.c.dlt")


def test_stream_partition_key_from_channel_or_interaction() -> None:
    channels = {"orders": {"message": "OrderCreated", "key": "order_id"}}
    on_channel = one(link("a", "b", "analytics", "OrderCreated", channel="orders"), channels=channels)
    assert (on_channel["topic"], on_channel["partition_key"]) == ("orders", "order_id")
    on_link = one(
        link("a", "b", "analytics", "OrderCreated", channel="orders", ordering_key="user_id"), channels=channels
    )
    assert on_link["partition_key"] == "user_id"


# -- webhooks ---------------------------------------------------------------------------------------
def test_webhook_inbound() -> None:
    v = one(link("ext", "a", "external-integration", "OrderCreated"))
    assert v == {
        "direction": "inbound",
        "message": "OrderCreated",
        "signature": "standard-webhooks-v1-hmac-sha256",
        "tolerance_s": 300,
        "dedupe_on": "webhook-id",
        "ack_within_ms": 2000,
    }


def test_webhook_outbound() -> None:
    v = one(link("a", "ext", "external-integration", "OrderCreated"))
    assert v["direction"] == "outbound"
    assert v["attempt_timeout_ms"] == 15000
    assert v["send_schedule_s"] == [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert v["disable_on_410"] is True
    assert "ack_within_ms" not in v


def test_webhook_schedule_is_one_immediate_attempt_then_the_retries() -> None:
    schedule = value("webhook", "send_schedule_s", "outbound")
    assert schedule[0] == 0 and all(delay > 0 for delay in schedule[1:])
    assert schedule_text([0, 5, 300]) == (
        "3 attempts: at once, then waits of 5 s and 5 min between attempts"
        " (5 min 5 s from the first attempt to the last)"
    )
    assert schedule_text([60]) == "1 attempt: after 1 min"
    assert "(75 h 35 min 5 s from the first attempt to the last)" in schedule_text(schedule)


def test_docs_state_the_planned_webhook_schedule() -> None:
    readme = " ".join((ROOT / "specs" / "README.md").read_text(encoding="utf-8").split())
    assert schedule_text(value("webhook", "send_schedule_s", "outbound")) in readme


# -- overrides --------------------------------------------------------------------------------------
def test_rest_overrides_are_applied() -> None:
    given = {
        "attempt_timeout_ms": 700,
        "total_timeout_ms": 2500,
        "max_attempts": 2,
        "backoff_initial_ms": 50,
        "backoff_max_ms": 400,
        "breaker_failure_threshold": 9,
        "breaker_recovery_ms": 7000,
        "concurrency_limit": 40,
        "idempotency_key": False,
    }
    p = plan(link("a", "b", resilience=given))
    assert {k: values(p, "a-to-b-get")[k] for k in given} == given
    assert not p.findings


def test_grpc_overrides_are_applied() -> None:
    given = {"total_timeout_ms": 900, "max_attempts": 4, "backoff_initial_ms": 20, "concurrency_limit": 7}
    v = one(link("a", "b", "high-throughput-internal", resilience=given))
    assert {k: v[k] for k in given} == given


def test_queue_overrides_are_applied() -> None:
    given = {"prefetch": 1, "delivery_limit": 5, "retry_delays_ms": [500, 5000], "handler_timeout_ms": 300000}
    v = one(link("a", "b", "background", "OrderCreated", resilience=given))
    assert {k: v[k] for k in given} == given


def test_stream_overrides_are_applied() -> None:
    given = {"retry_delays_ms": [100], "handler_timeout_ms": 1000}
    v = one(link("a", "b", "analytics", "OrderCreated", resilience=given))
    assert {k: v[k] for k in given} == given


def test_webhook_overrides_are_applied() -> None:
    inbound = one(link("ext", "a", "external-integration", "OrderCreated", resilience={"tolerance_s": 900}))
    # Received ids are kept in the service's inbox, for days: far longer than twice any tolerance.
    assert inbound["tolerance_s"] == 900
    outbound = one(link("a", "ext", "external-integration", "OrderCreated", resilience={"attempt_timeout_ms": 5000}))
    assert outbound["attempt_timeout_ms"] == 5000


def test_total_shorter_than_one_attempt_is_an_error() -> None:
    p = plan(link("a", "b", resilience={"attempt_timeout_ms": 2000, "total_timeout_ms": 1000}))
    f = only_finding(p, "timeout-order")
    assert (f.severity, f.interactions) == ("error", ["a-to-b-get"])
    assert f.numbers == {"total_timeout_ms": 1000, "attempt_timeout_ms": 2000}


def test_total_shorter_than_backoff_sleeps_is_an_error() -> None:
    given = {"max_attempts": 5, "backoff_initial_ms": 500, "backoff_max_ms": 2000, "total_timeout_ms": 1000}
    p = plan(link("a", "b", resilience=given))
    f = only_finding(p, "timeout-order")
    assert f.severity == "error"
    assert f.numbers == {"total_timeout_ms": 1000, "backoff_ms": 500 + 1000 + 2000 + 2000}
    assert "the last attempts can never run" in f.message


def test_backoff_worst_ms() -> None:
    assert backoff_worst_ms(1, 100, 1000) == 0
    assert backoff_worst_ms(3, 100, 1000) == 300
    assert backoff_worst_ms(7, 100, 1000) == 100 + 200 + 400 + 800 + 1000 + 1000


@pytest.mark.parametrize(("attempts", "errors"), [(5, 0), (6, 1)])
def test_grpc_max_attempts_above_five_is_an_error(attempts: int, errors: int) -> None:
    given = {"max_attempts": attempts, "total_timeout_ms": 10000}
    p = plan(link("a", "b", "high-throughput-internal", resilience=given))
    found = [f for f in p.findings if f.rule == "grpc-max-attempts"]
    assert len(found) == errors
    assert [f.numbers for f in found] == [{"max_attempts": attempts}] * errors
    assert values(p, "a-to-b-get")["max_attempts"] == attempts


@pytest.mark.parametrize(
    ("inter", "key", "kind"),
    [
        (link("a", "b", resilience={"prefetch": 5}), "prefetch", "a rest"),
        (
            link("a", "b", "high-throughput-internal", resilience={"attempt_timeout_ms": 5}),
            "attempt_timeout_ms",
            "a grpc",
        ),
        (link("a", "b", "background", "OrderCreated", resilience={"max_attempts": 2}), "max_attempts", "a queue"),
        (link("a", "b", "analytics", "OrderCreated", resilience={"prefetch": 2}), "prefetch", "a stream"),
        (
            link("a", "ext", "external-integration", "OrderCreated", resilience={"max_attempts": 2}),
            "max_attempts",
            "a webhook",
        ),
        (
            link("ext", "a", "external-integration", "OrderCreated", resilience={"attempt_timeout_ms": 9}),
            "attempt_timeout_ms",
            "an inbound webhook",
        ),
    ],
)
def test_inapplicable_override_is_an_error(inter: dict[str, Any], key: str, kind: str) -> None:
    f = only_finding(plan(inter), "resilience-override")
    assert f.severity == "error"
    assert f.message == f"`resilience.{key}` does not apply to {kind} link"
    assert f.fix.startswith(f"remove it; {kind.split(' ', 1)[1]} links take: ")


def test_every_override_applies_somewhere() -> None:
    assert set().union(*APPLICABLE.values()) == set(ResilienceOverrides.model_fields)


# -- latency budget ---------------------------------------------------------------------------------
def test_latency_budget_sets_the_total_and_shares_it_among_attempts() -> None:
    v = one(link("a", "b", latency_budget_ms=6000))
    assert v["total_timeout_ms"] == 6000
    assert v["attempt_timeout_ms"] == (6000 - 300) // 3 == 1900


def test_latency_budget_sets_the_grpc_deadline() -> None:
    v = one(link("a", "b", "high-throughput-internal", latency_budget_ms=250))
    assert v["total_timeout_ms"] == 250


def test_latency_budget_wins_over_the_callers_cap() -> None:
    p = plan(link("web", "a"), link("a", "b", within="Get", latency_budget_ms=5000))
    assert values(p, "a-to-b-get")["total_timeout_ms"] == 5000  # left as given, checked by timeout-budget
    assert ("error", "timeout-budget", ["web-to-a-get", "a-to-b-get"]) in rules(p)


# -- timeouts fitted top-down -----------------------------------------------------------------------
def test_callee_gets_90_percent_of_the_callers_attempt() -> None:
    p = plan(link("web", "a"), link("a", "b", within="Get"), link("b", "c", within="Get"))
    # web -> a and a -> b are tried once (the last hop retries); each spends its whole total on one try.
    assert (values(p, "web-to-a-get")["attempt_timeout_ms"], values(p, "web-to-a-get")["max_attempts"]) == (3000, 1)
    assert values(p, "a-to-b-get")["total_timeout_ms"] == 2700
    assert values(p, "a-to-b-get")["attempt_timeout_ms"] == 2700
    bottom = values(p, "b-to-c-get")
    assert bottom["total_timeout_ms"] == 2430
    assert bottom["max_attempts"] == 3
    assert bottom["attempt_timeout_ms"] == min(1000, (2430 - 300) // 3) == 710
    assert not p.findings


def test_sibling_calls_share_the_budget() -> None:
    p = plan(link("web", "a"), link("a", "b", within="Get"), link("a", "c", within="Get"))
    for callee in "bc":
        v = values(p, f"a-to-{callee}-get")
        assert v["total_timeout_ms"] == 3000 * 9 // 10 // 2 == 1350
        assert v["attempt_timeout_ms"] == (1350 - 300) // 3 == 350


def test_within_limits_who_shares_the_budget() -> None:
    p = plan(
        link("web", "a"),
        link("a", "b", within="Get"),
        link("a", "c", what="Get", within="Other"),  # made while serving another operation
    )
    assert values(p, "a-to-b-get")["total_timeout_ms"] == 2700  # not split with a -> c
    assert values(p, "a-to-c-get")["total_timeout_ms"] == 3000  # nobody calls a.Other: not capped


def test_call_without_within_is_made_during_every_operation() -> None:
    p = plan(link("web", "a"), link("a", "b"), link("a", "c"))
    assert values(p, "a-to-b-get")["total_timeout_ms"] == 1350
    assert values(p, "a-to-c-get")["total_timeout_ms"] == 1350


def test_a_retrying_callers_attempt_caps_the_callee() -> None:
    p = plan(
        link("web", "a", resilience={"max_attempts": 3}), link("a", "b", within="Get", resilience={"max_attempts": 1})
    )
    assert values(p, "web-to-a-get")["attempt_timeout_ms"] == 900
    assert values(p, "a-to-b-get")["total_timeout_ms"] == 810
    assert values(p, "a-to-b-get")["attempt_timeout_ms"] == 810


def test_the_smallest_cap_of_several_callers_wins() -> None:
    p = plan(
        link("web", "a"),
        link("a", "b", within="Get"),  # one attempt of 2700 ms
        link("c", "b", latency_budget_ms=1000),  # one attempt of 1000 ms
        link("b", "d", within="Get"),
    )
    assert values(p, "a-to-b-get")["attempt_timeout_ms"] == 2700
    assert values(p, "c-to-b-get")["attempt_timeout_ms"] == 1000
    assert values(p, "b-to-d-get")["total_timeout_ms"] == min(2700, 1000) * 9 // 10 == 900


def test_a_budget_flows_down_the_chain() -> None:
    """A 10 s budget at the edge gives the hops below it 10 s to share, not their 3 s defaults."""
    p = plan(link("web", "a", latency_budget_ms=10000), link("a", "b", within="Get"), link("b", "c", within="Get"))
    top, middle, bottom = (values(p, i) for i in ("web-to-a-get", "a-to-b-get", "b-to-c-get"))
    assert top["total_timeout_ms"] == 10000
    assert middle["total_timeout_ms"] == 10000 * 9 // 10 == 9000
    assert bottom["total_timeout_ms"] == 9000 * 9 // 10 == 8100
    assert bottom["attempt_timeout_ms"] == (8100 - 300) // 3, "shared out among its attempts"
    assert not [f for f in p.findings if f.rule == "timeout-budget"]


def test_a_default_above_the_callee_default_leaves_the_callee_default() -> None:
    """Without a budget on purpose, a caller's longer default (5 s for `other`) only ever lowers."""
    p = plan(link("a", "b", "background", pattern="rest", reason="r"), link("b", "c", within="Get"))
    assert values(p, "a-to-b-get")["attempt_timeout_ms"] > 3000 / 0.9
    assert values(p, "b-to-c-get")["total_timeout_ms"] == 3000


def test_a_tighter_default_caller_still_caps_a_budgeted_one() -> None:
    p = plan(
        link("web", "a", latency_budget_ms=10000),
        link("a", "b", within="Get"),
        link("c", "b", "high-throughput-internal"),
        link("b", "d", within="Get"),
    )
    fast = values(p, "c-to-b-get")
    per_attempt = fast.get("attempt_timeout_ms", fast["total_timeout_ms"])
    assert values(p, "b-to-d-get")["total_timeout_ms"] == min(3000, per_attempt * 9 // 10) < 9000


# -- retries at one layer ---------------------------------------------------------------------------
def test_only_the_hop_next_to_the_failure_retries() -> None:
    p = plan(link("web", "a"), link("a", "b", within="Get"), link("b", "c", within="Get"))
    attempts = [values(p, i)["max_attempts"] for i in ("web-to-a-get", "a-to-b-get", "b-to-c-get")]
    assert attempts == [1, 1, 3]


def test_a_bottom_hop_that_does_not_retry_lets_the_one_above_retry() -> None:
    p = plan(link("web", "a"), link("a", "b", within="Get", resilience={"max_attempts": 1}))
    assert values(p, "web-to-a-get")["max_attempts"] == 3
    assert values(p, "a-to-b-get")["max_attempts"] == 1


def test_retry_layers_follow_within() -> None:
    # a -> b is made during a.Other only, so web -> a.Get has nothing below it that retries.
    p = plan(link("web", "a"), link("a", "b", within="Other"))
    assert values(p, "web-to-a-get")["max_attempts"] == 3
    assert values(p, "a-to-b-get")["max_attempts"] == 3


def test_async_links_do_not_count_as_retries_below() -> None:
    p = plan(link("web", "a"), link("a", "b", "background", "OrderCreated"))
    assert values(p, "web-to-a-get")["max_attempts"] == 3


def test_an_overridden_caller_keeps_its_attempts() -> None:
    p = plan(link("web", "a", resilience={"max_attempts": 2}), link("a", "b", within="Get"))
    assert values(p, "web-to-a-get")["max_attempts"] == 2
    assert values(p, "a-to-b-get")["max_attempts"] == 3
    f = only_finding(p, "retry-layers")
    assert (f.severity, f.interactions, f.numbers) == (
        "warning",
        ["web-to-a-get", "a-to-b-get"],
        {"layers": 2, "attempts": 6},
    )
