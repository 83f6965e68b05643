"""Concrete resilience settings for one link, from the defaults table plus overrides.

Pure functions: they return the settings and the problems with them as findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scaffold.plan.defaults import value
from scaffold.plan.model import Finding
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

GRPC_MAX_ATTEMPTS = 5


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


def settings(link: Link, total_cap_ms: int | None = None) -> tuple[dict[str, Any], list[Finding]]:
    """Settings for ``link``; ``total_cap_ms`` is the budget left by callers upstream, if any."""
    findings = _inapplicable(link)
    build = {"rest": _rest, "grpc": _grpc, "queue": _queue, "stream": _stream, "webhook": _webhook}
    values, more = build[link.pattern](link, total_cap_ms)
    return values, findings + more


def _finding(link: Link, severity: str, rule: str, message: str, fix: str, **numbers: Any) -> Finding:
    return Finding(
        severity=severity,
        rule=rule,
        interactions=[link.id],
        message=message,
        numbers=numbers,
        fix=fix,
        line=link.line,
    )


def _inapplicable(link: Link) -> list[Finding]:
    allowed, kind = APPLICABLE[link.pattern], f"a {link.pattern}"
    if link.pattern == "webhook" and not link.source.is_service:
        # Inbound, the third party sends and times out; `attempt_timeout_ms` used to be accepted here
        # and then silently ignored.
        allowed, kind = allowed - {"attempt_timeout_ms"}, "an inbound webhook"
    return [
        _finding(
            link,
            "error",
            "resilience-override",
            f"`resilience.{key}` does not apply to {kind} link",
            f"remove it; {kind[kind.index(' ') + 1 :]} links take: {', '.join(sorted(allowed))}",
        )
        for key in link.overrides
        if key not in allowed
    ]


def _default_attempts(link: Link, pattern: str, retry_safe: bool) -> int:
    if not retry_safe or link.retries_below:
        return 1
    return int(value(pattern, "max_attempts"))


def _timeouts(
    link: Link, pattern: str, attempts: int, initial: int, cap: int, total_cap_ms: int | None
) -> tuple[int, int]:
    """Total and per-attempt timeout: overrides win, then the latency budget, then defaults."""
    given = link.overrides
    budget = link.inter.latency_budget_ms
    total = given.get("total_timeout_ms") or budget or value(pattern, "total_timeout_ms", link.variant)
    if "total_timeout_ms" not in given and budget is None and total_cap_ms is not None:
        total = max(1, min(total, total_cap_ms))
    if pattern == "grpc":
        return total, total  # a gRPC deadline covers every attempt
    derived = max(1, (total - backoff_worst_ms(attempts, initial, cap)) // attempts)
    attempt = given.get("attempt_timeout_ms")
    if attempt is None:
        # A total that was set on purpose (override or budget) is shared out among the attempts.
        chosen = "total_timeout_ms" in given or budget is not None
        # A hop tried once because its callee retries below spends the callee's retries inside its one
        # attempt: it gets the whole total. (Capping it at the per-attempt default wasted the rest of
        # the total and squeezed every hop below it to 90% of that default, e.g. 200 ms attempts.)
        whole = link.retries_below and attempts == 1
        attempt = derived if chosen or whole else min(value(pattern, "attempt_timeout_ms", link.variant), derived)
    return total, attempt


def _retry_checks(link: Link, values: dict[str, Any], retry_safe: bool) -> list[Finding]:
    out = []
    attempts = values["max_attempts"]
    if attempts > 1 and not retry_safe:
        out.append(
            _finding(
                link,
                "error",
                "retry-non-idempotent",
                f"`{link.op.name if link.op else link.id}` is not idempotent and has no idempotency key, "
                f"yet it is tried {attempts} times: a retry can repeat its side effect",
                "set `resilience.max_attempts: 1`, mark the operation idempotent, or use an idempotency key",
                max_attempts=attempts,
            )
        )
    mesh = values["mesh_retry_attempts"]
    if attempts > 1 and mesh > 0:
        out.append(
            _finding(
                link,
                "warning",
                "retry-layers",
                f"retries at two layers: the app tries {attempts} times and the mesh retries "
                f"{mesh} more per try ({attempts * (1 + mesh)} in all)",
                "retry at one layer: set `mesh_retry_attempts: 0` or `max_attempts: 1`",
                app_attempts=attempts,
                mesh_retries=mesh,
            )
        )
    total, attempt = values["total_timeout_ms"], values.get("attempt_timeout_ms", values["total_timeout_ms"])
    if total < attempt:
        out.append(
            _finding(
                link,
                "error",
                "timeout-order",
                f"total timeout {total} ms is shorter than one attempt ({attempt} ms)",
                "make `total_timeout_ms` at least `attempt_timeout_ms`",
                total_timeout_ms=total,
                attempt_timeout_ms=attempt,
            )
        )
    sleeps = backoff_worst_ms(attempts, values["backoff_initial_ms"], values["backoff_max_ms"])
    if attempts > 1 and total < sleeps:
        out.append(
            _finding(
                link,
                "error",
                "timeout-order",
                f"total timeout {total} ms is shorter than the backoff sleeps between {attempts} attempts "
                f"({sleeps} ms): the last attempts can never run",
                "raise `total_timeout_ms` or lower `max_attempts` / backoff",
                total_timeout_ms=total,
                backoff_ms=sleeps,
            )
        )
    if link.inter.use_case == "user-facing" and total >= 30_000:
        out.append(
            _finding(
                link,
                "warning",
                "timeout-too-long",
                f"a user waits up to {total} ms on this link; the guide says 30 s is too long",
                "derive the timeout from the callee's p99.9 latency; a few seconds at most",
                total_timeout_ms=total,
            )
        )
    return out


def _rest(link: Link, total_cap_ms: int | None) -> tuple[dict[str, Any], list[Finding]]:
    given = link.overrides
    target = link.target
    key_default = not link.idempotent and (target.is_service or target.accepts_idempotency_key)
    key = given.get("idempotency_key", key_default if not link.idempotent else False)
    retry_safe = link.idempotent or key
    attempts = given.get("max_attempts", _default_attempts(link, "rest", retry_safe))
    initial = given.get("backoff_initial_ms", value("rest", "backoff_initial_ms"))
    cap = given.get("backoff_max_ms", value("rest", "backoff_max_ms"))
    total, attempt = _timeouts(link, "rest", attempts, initial, cap, total_cap_ms)
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
    findings = _retry_checks(link, values, retry_safe)
    if op is not None and op.streaming != "none":
        findings.append(
            _finding(
                link,
                "error",
                "rest-streaming",
                f"`{op.name}` streams ({op.streaming}) but the link is REST, which cannot stream it",
                "use gRPC for this link, or make the operation unary",
            )
        )
    return values, findings


def _grpc(link: Link, total_cap_ms: int | None) -> tuple[dict[str, Any], list[Finding]]:
    given = link.overrides
    attempts = given.get("max_attempts", _default_attempts(link, "grpc", True))
    initial = given.get("backoff_initial_ms", value("grpc", "backoff_initial_ms"))
    cap = given.get("backoff_max_ms", value("grpc", "backoff_max_ms"))
    total, _ = _timeouts(link, "grpc", attempts, initial, cap, total_cap_ms)
    variant = "idempotent" if link.idempotent else "not idempotent"
    values: dict[str, Any] = {
        "service": link.target.proto_service or "",
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
    # UNAVAILABLE means the call was not processed, so retrying it is safe even when not idempotent.
    findings = _retry_checks(link, values, retry_safe=True)
    if attempts > GRPC_MAX_ATTEMPTS:
        findings.append(
            _finding(
                link,
                "error",
                "grpc-max-attempts",
                f"max_attempts {attempts} on a gRPC link: gRPC clients cap it at {GRPC_MAX_ATTEMPTS} silently",
                f"set `resilience.max_attempts` to {GRPC_MAX_ATTEMPTS} or fewer",
                max_attempts=attempts,
            )
        )
    if not link.target.is_service:
        findings.append(
            _finding(
                link,
                "error",
                "grpc-external",
                f"`{link.target.name}` is outside the system; scaffold cannot serve gRPC for it",
                "use REST for third parties",
            )
        )
    return values, findings


def _delays(link: Link, pattern: str) -> list[int]:
    return list(link.overrides.get("retry_delays_ms", value(pattern, "retry_delays_ms")))


def _queue(link: Link, _cap: int | None) -> tuple[dict[str, Any], list[Finding]]:
    given = link.overrides
    channel = link.channel.name if link.channel else "unknown"
    queue = f"{channel}.{link.target.name}"
    values: dict[str, Any] = {
        "exchange": channel,
        "queue": queue,
        "message": link.inter.message,
        "queue_type": value("queue", "queue_type"),
        "delivery_limit": given.get("delivery_limit", value("queue", "delivery_limit")),
        "dead_letter_exchange": f"{channel}.dlx",
        "dead_letter_queue": f"{queue}.dlq",
        "retry_delays_ms": _delays(link, "queue"),
        "prefetch": given.get("prefetch", value("queue", "prefetch")),
        "publisher_confirms": value("queue", "publisher_confirms"),
        "persistent": value("queue", "persistent"),
        "manual_ack": value("queue", "manual_ack"),
        "publish_timeout_ms": value("queue", "publish_timeout_ms"),
        "handler_timeout_ms": given.get("handler_timeout_ms", value("queue", "handler_timeout_ms")),
        "dedupe_on": value("queue", "dedupe_on"),
    }
    findings = _async_checks(link)
    if link.inter.ordered:
        findings.append(
            _finding(
                link,
                "warning",
                "queue-ordering",
                "ordering is declared, but a RabbitMQ queue reorders on redelivery and with competing consumers",
                "use an event stream (`pattern: stream` with a partition key) or a single active consumer",
            )
        )
    return values, findings


def _stream(link: Link, _cap: int | None) -> tuple[dict[str, Any], list[Finding]]:
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
        "enable_auto_commit": value("stream", "enable_auto_commit"),
        "commit": value("stream", "commit"),
        "max_poll_interval_ms": value("stream", "max_poll_interval_ms"),
        "auto_offset_reset": value("stream", "auto_offset_reset"),
        "handler_timeout_ms": link.overrides.get("handler_timeout_ms", value("stream", "handler_timeout_ms")),
        "dedupe_on": value("stream", "dedupe_on"),
    }
    findings = _async_checks(link)
    if link.inter.ordered and key is None:
        findings.append(
            _finding(
                link,
                "error",
                "stream-ordering-key",
                "ordering is declared but there is no partition key: events spread over partitions lose order",
                "set `ordering_key` on the interaction or `key` on the channel (an entity id field)",
            )
        )
    return values, findings


def _webhook(link: Link, _cap: int | None) -> tuple[dict[str, Any], list[Finding]]:
    given = link.overrides
    inbound = not link.source.is_service
    values: dict[str, Any] = {
        "direction": "inbound" if inbound else "outbound",
        "message": link.inter.message,
        "signature": value("webhook", "signature"),
        "tolerance_s": given.get("tolerance_s", value("webhook", "tolerance_s")),
        "dedupe_on": value("webhook", "dedupe_on"),
        "dedupe_ttl_s": max(value("webhook", "dedupe_ttl_s"), 2 * given.get("tolerance_s", 0)),
    }
    if inbound:
        values["ack_within_ms"] = value("webhook", "ack_within_ms", "inbound")
    else:
        values["attempt_timeout_ms"] = given.get(
            "attempt_timeout_ms", value("webhook", "attempt_timeout_ms", "outbound")
        )
        values["send_schedule_s"] = value("webhook", "send_schedule_s", "outbound")
        values["disable_on_410"] = value("webhook", "disable_on_410", "outbound")
    findings = []
    if link.source.is_service == link.target.is_service:
        findings.append(
            _finding(
                link,
                "error",
                "webhook-ends",
                "a webhook links a service of this system and a third party",
                "use a queue or stream between two services",
            )
        )
    return values, findings


def _async_checks(link: Link) -> list[Finding]:
    if link.source.is_service and link.target.is_service:
        return []
    return [
        _finding(
            link,
            "error",
            "async-external",
            f"a {link.pattern} link needs a service of this system at both ends",
            "reach third parties with REST and webhooks (`use_case: external-integration`)",
        )
    ]
