"""Concrete resilience settings for one link, from the defaults table plus overrides.

Pure functions that decide values only; whether the values hold up is judged by
scaffold.plan.checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scaffold.plan.defaults import value
from scaffold.spec.model import Interaction, ResilienceOverrides
from scaffold.spec.resolved import ChannelDef, Endpoint, OperationDef

# Which overrides mean something for which pattern.
APPLICABLE: dict[str, frozenset[str]] = {
    "rest": frozenset(
        {
            "attempt_timeout_ms",
            "total_timeout_ms",
            "max_attempts",
            "backoff_initial_ms",
            "backoff_max_ms",
            "breaker_failure_threshold",
            "breaker_recovery_ms",
            "concurrency_limit",
            "mesh_retry_attempts",
            "idempotency_key",
        }
    ),
    "grpc": frozenset(
        {
            "total_timeout_ms",
            "max_attempts",
            "backoff_initial_ms",
            "backoff_max_ms",
            "breaker_failure_threshold",
            "breaker_recovery_ms",
            "concurrency_limit",
            "mesh_retry_attempts",
        }
    ),
    "queue": frozenset({"prefetch", "delivery_limit", "retry_delays_ms", "handler_timeout_ms"}),
    "stream": frozenset({"retry_delays_ms", "handler_timeout_ms"}),
    "webhook": frozenset({"tolerance_s", "attempt_timeout_ms"}),
}


@dataclass(frozen=True)
class Link:
    """Everything the settings of one interaction depend on."""

    id: str
    inter: Interaction
    source: Endpoint
    target: Endpoint
    op: OperationDef | None
    channel: ChannelDef | None
    pattern: str
    line: int
    # The callee's own calls already retry: retry at one layer only, so this link does not.
    retries_below: bool = False

    @property
    def overrides(self) -> dict[str, Any]:
        given: ResilienceOverrides | None = self.inter.resilience
        return given.model_dump(exclude_none=True) if given else {}

    @property
    def variant(self) -> str:
        return self.inter.use_case

    @property
    def idempotent(self) -> bool:
        if self.inter.idempotent is not None:
            return self.inter.idempotent
        return bool(self.op and self.op.idempotent)


def backoff_worst_ms(attempts: int, initial: int, cap: int, multiplier: int = 2) -> int:
    """Longest total sleep between ``attempts`` tries (full jitter sleeps at most this)."""
    return sum(min(cap, initial * multiplier**n) for n in range(max(0, attempts - 1)))


@dataclass(frozen=True)
class Cap:
    """The time callers upstream leave a link, per attempt of theirs, less headroom.

    ``default_ms`` comes from callers on default timeouts: it only lowers this link's own default.
    ``budget_ms`` comes from callers whose time was chosen on purpose (a latency budget or a total
    timeout override, or inherited from one): it becomes this link's total, so a budget flows down
    the chain instead of stopping at the first hop.
    """

    default_ms: int | None = None
    budget_ms: int | None = None


def settings(link: Link, cap: Cap | None = None) -> dict[str, Any]:
    """Settings for ``link``; ``cap`` is the time left by callers upstream, if any."""
    build: dict[str, Callable[[Link, Cap | None], dict[str, Any]]] = {
        "rest": _rest,
        "grpc": _grpc,
        "queue": _queue,
        "stream": _stream,
        "webhook": _webhook,
    }
    return build[link.pattern](link, cap)


def chosen_on_purpose(link: Link, values: dict[str, Any], cap: Cap | None) -> bool:
    """Whether the link's total timeout was chosen on purpose, by its own spec or by a budget above."""
    if "total_timeout_ms" in link.overrides or link.inter.latency_budget_ms is not None:
        return True
    return cap is not None and cap.budget_ms is not None and values.get("total_timeout_ms") == max(1, cap.budget_ms)


def _default_attempts(link: Link, pattern: str, retry_safe: bool) -> int:
    if not retry_safe or link.retries_below:
        return 1
    return int(value(pattern, "max_attempts"))


def _timeouts(link: Link, pattern: str, attempts: int, initial: int, cap: int, upstream: Cap | None) -> tuple[int, int]:
    """Total and per-attempt timeout: overrides win, then the latency budget, then a budget flowing
    down from the callers, then defaults (lowered to what the callers leave)."""
    given = link.overrides
    budget = link.inter.latency_budget_ms
    total = given.get("total_timeout_ms") or budget or value(pattern, "total_timeout_ms", link.variant)
    flows = False
    if "total_timeout_ms" not in given and budget is None and upstream is not None:
        candidates = []
        if upstream.default_ms is not None:
            candidates.append(min(total, upstream.default_ms))
        if upstream.budget_ms is not None:
            candidates.append(upstream.budget_ms)
        if candidates:
            total = max(1, min(candidates))
            flows = upstream.budget_ms is not None and total == max(1, upstream.budget_ms)
    if pattern == "grpc":
        return total, total  # a gRPC deadline covers every attempt
    derived = max(1, (total - backoff_worst_ms(attempts, initial, cap)) // attempts)
    attempt = given.get("attempt_timeout_ms")
    if attempt is None:
        # A total that was set on purpose (override or budget) is shared out among the attempts.
        chosen = "total_timeout_ms" in given or budget is not None or flows
        # A hop tried once because its callee retries below spends the callee's retries inside its one
        # attempt: it gets the whole total. (Capping it at the per-attempt default wasted the rest of
        # the total and squeezed every hop below it to 90% of that default, e.g. 200 ms attempts.)
        whole = link.retries_below and attempts == 1
        attempt = derived if chosen or whole else min(value(pattern, "attempt_timeout_ms", link.variant), derived)
    return total, attempt


def _rest(link: Link, upstream: Cap | None) -> dict[str, Any]:
    given = link.overrides
    target = link.target
    # The key is defined for POST and PATCH (IETF draft-ietf-httpapi-idempotency-key-header).
    keyed_method = link.op is None or link.op.http_method in ("POST", "PATCH")
    key_default = not link.idempotent and keyed_method and (target.is_service or target.accepts_idempotency_key)
    key = given.get("idempotency_key", key_default if not link.idempotent else False)
    retry_safe = link.idempotent or key
    attempts = given.get("max_attempts", _default_attempts(link, "rest", retry_safe))
    initial = given.get("backoff_initial_ms", value("rest", "backoff_initial_ms"))
    cap = given.get("backoff_max_ms", value("rest", "backoff_max_ms"))
    total, attempt = _timeouts(link, "rest", attempts, initial, cap, upstream)
    op = link.op
    values: dict[str, Any] = {
        "method": op.http_method if op else "POST",
        "path": op.http_path if op else "/",
        "idempotent": link.idempotent,
        "idempotency_key": key,
        "attempt_timeout_ms": attempt,
        "total_timeout_ms": total,
        "max_attempts": attempts,
        "backoff_initial_ms": initial,
        "backoff_max_ms": cap,
        "backoff_multiplier": value("rest", "backoff_multiplier"),
        "backoff_jitter": value("rest", "backoff_jitter"),
        "retry_on": value("rest", "retry_on"),
        "honour_retry_after": value("rest", "honour_retry_after"),
        "retry_budget_ratio": value("rest", "retry_budget_ratio"),
        "breaker_failure_threshold": given.get("breaker_failure_threshold", value("rest", "breaker_failure_threshold")),
        "breaker_recovery_ms": given.get("breaker_recovery_ms", value("rest", "breaker_recovery_ms")),
        "breaker_counts": value("rest", "breaker_counts"),
        "concurrency_limit": given.get("concurrency_limit", value("rest", "concurrency_limit")),
        "max_connections": value("rest", "max_connections"),
        "max_keepalive_connections": value("rest", "max_keepalive_connections"),
        "mesh_retry_attempts": given.get("mesh_retry_attempts", value("rest", "mesh_retry_attempts")),
    }
    return values


def _grpc(link: Link, upstream: Cap | None) -> dict[str, Any]:
    given = link.overrides
    # UNAVAILABLE does not prove that the server did nothing (gRPC status code guide: "not always
    # safe to retry non-idempotent operations"); calls that never left the client are retried by
    # gRPC itself, without a retry policy (proposal A6, transparent retries).
    retry_safe = link.idempotent
    attempts = given.get("max_attempts", _default_attempts(link, "grpc", retry_safe))
    initial = given.get("backoff_initial_ms", value("grpc", "backoff_initial_ms"))
    cap = given.get("backoff_max_ms", value("grpc", "backoff_max_ms"))
    total, _ = _timeouts(link, "grpc", attempts, initial, cap, upstream)
    variant = "idempotent" if link.idempotent else "not idempotent"
    values: dict[str, Any] = {
        # The .proto service that declares the method (a contract may declare several).
        "service": (link.op.grpc_service if link.op else None) or link.target.proto_service or "",
        "method": link.op.name if link.op else "",
        "streaming": link.op.streaming if link.op else "none",
        "idempotent": link.idempotent,
        "total_timeout_ms": total,
        "max_attempts": attempts,
        "backoff_initial_ms": initial,
        "backoff_max_ms": cap,
        "backoff_multiplier": value("grpc", "backoff_multiplier"),
        "retryable_status_codes": value("grpc", "retryable_status_codes", variant),
        "retry_throttling_max_tokens": value("grpc", "retry_throttling_max_tokens"),
        "retry_throttling_token_ratio": value("grpc", "retry_throttling_token_ratio"),
        "breaker_failure_threshold": given.get("breaker_failure_threshold", value("grpc", "breaker_failure_threshold")),
        "breaker_recovery_ms": given.get("breaker_recovery_ms", value("grpc", "breaker_recovery_ms")),
        "breaker_counts": value("grpc", "breaker_counts"),
        "concurrency_limit": given.get("concurrency_limit", value("grpc", "concurrency_limit", link.variant)),
        "mesh_retry_attempts": given.get("mesh_retry_attempts", value("grpc", "mesh_retry_attempts")),
    }
    if not values["service"]:
        values.pop("service")
    if values["streaming"] != "none":
        # A stream lives as long as its consumer wants: bounded by idleness, not by a deadline.
        del values["total_timeout_ms"]
        values["stream_idle_timeout_ms"] = value("grpc", "stream_idle_timeout_ms")
    return values


def _delays(link: Link, pattern: str) -> list[int]:
    return list(link.overrides.get("retry_delays_ms", value(pattern, "retry_delays_ms")))


def _queue(link: Link, _cap: Cap | None) -> dict[str, Any]:
    given = link.overrides
    channel = link.channel.name if link.channel else "unknown"
    queue = f"{channel}.{link.target.name}"
    values: dict[str, Any] = {
        "exchange": channel,
        "routing_key": channel,
        "queue": queue,
        "message": link.inter.message,
        "queue_type": value("queue", "queue_type"),
        "delivery_limit": given.get("delivery_limit", value("queue", "delivery_limit")),
        "dead_letter_exchange": f"{channel}.dlx",
        "dead_letter_queue": f"{queue}.dlq",
        "dead_letter_strategy": value("queue", "dead_letter_strategy"),
        "retry_delays_ms": _delays(link, "queue"),
        "prefetch": given.get("prefetch", value("queue", "prefetch")),
        "publisher_confirms": value("queue", "publisher_confirms"),
        "confirm_window": value("queue", "confirm_window"),
        "persistent": value("queue", "persistent"),
        "manual_ack": value("queue", "manual_ack"),
        "publish_timeout_ms": value("queue", "publish_timeout_ms"),
        "publish_deadline_ms": value("queue", "publish_deadline_ms"),
        "handler_timeout_ms": given.get("handler_timeout_ms", value("queue", "handler_timeout_ms")),
        "dedupe_on": value("queue", "dedupe_on"),
    }
    return values


def _stream(link: Link, _cap: Cap | None) -> dict[str, Any]:
    channel = link.channel.name if link.channel else "unknown"
    key = link.inter.ordering_key or (link.channel.key if link.channel else None)
    group = link.target.name
    values: dict[str, Any] = {
        "topic": channel,
        "message": link.inter.message,
        "partition_key": key,
        "consumer_group": group,
        "retry_topic": f"{channel}.{group}.retry",
        "dead_letter_topic": f"{channel}.{group}.dlt",
        "retry_delays_ms": _delays(link, "stream"),
        "acks": value("stream", "acks"),
        "enable_idempotence": value("stream", "enable_idempotence"),
        "max_in_flight": value("stream", "max_in_flight"),
        "linger_ms": value("stream", "linger_ms"),
        "delivery_timeout_ms": value("stream", "delivery_timeout_ms"),
        "partitioner": value("stream", "partitioner"),
        # The retry and dead-letter topics get the topic's partition count: a message is retried on
        # the partition number it came from (see the generated runtime/kafka.py).
        "partitions": value("stream", "partitions"),
        "replication_factor": value("stream", "replication_factor"),
        "min_insync_replicas": value("stream", "min_insync_replicas"),
        "enable_auto_commit": value("stream", "enable_auto_commit"),
        "commit": value("stream", "commit"),
        "max_poll_interval_ms": value("stream", "max_poll_interval_ms"),
        "buffer_per_partition": value("stream", "buffer_per_partition"),
        "auto_offset_reset": value("stream", "auto_offset_reset"),
        "handler_timeout_ms": link.overrides.get("handler_timeout_ms", value("stream", "handler_timeout_ms")),
        "dedupe_on": value("stream", "dedupe_on"),
    }
    return values


def _webhook(link: Link, _cap: Cap | None) -> dict[str, Any]:
    given = link.overrides
    inbound = not link.source.is_service
    values: dict[str, Any] = {
        "direction": "inbound" if inbound else "outbound",
        "message": link.inter.message,
        "signature": value("webhook", "signature"),
        "tolerance_s": given.get("tolerance_s", value("webhook", "tolerance_s")),
        "dedupe_on": value("webhook", "dedupe_on"),
    }
    if inbound:
        values["ack_within_ms"] = value("webhook", "ack_within_ms", "inbound")
    else:
        values["attempt_timeout_ms"] = given.get(
            "attempt_timeout_ms", value("webhook", "attempt_timeout_ms", "outbound")
        )
        values["send_schedule_s"] = value("webhook", "send_schedule_s", "outbound")
        values["disable_on_410"] = value("webhook", "disable_on_410", "outbound")
    return values
