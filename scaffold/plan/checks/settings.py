"""Each link's planned resilience settings on their own: overrides that apply, retries that are
safe, timeouts in order, and what the chosen transport can and cannot do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaffold.plan.checks.findings import ASYNC, finding
from scaffold.plan.model import Finding, PlannedInteraction
from scaffold.plan.resilience import APPLICABLE, Link, backoff_worst_ms

GRPC_MAX_ATTEMPTS = 5


def check_settings(links: list[Link], planned: dict[str, PlannedInteraction]) -> Iterator[Finding]:
    for link in links:
        values = planned[link.id].resilience
        yield from _inapplicable(link)
        if link.pattern == "rest":
            yield from _rest(link, values)
        elif link.pattern == "grpc":
            yield from _grpc(link, values)
        elif link.pattern == "queue":
            yield from _queue(link)
        elif link.pattern == "stream":
            yield from _stream(link, values)
        elif link.pattern == "webhook":
            yield from _webhook(link)
        if link.pattern in ASYNC:
            yield from _async_ends(link)


def _finding(link: Link, severity: str, rule: str, message: str, fix: str, **numbers: Any) -> Finding:
    return finding(severity, rule, [link.id], message, fix, link.line, **numbers)


def _inapplicable(link: Link) -> Iterator[Finding]:
    allowed, kind = APPLICABLE[link.pattern], f"a {link.pattern}"
    if link.pattern == "webhook" and not link.source.is_service:
        # Inbound, the third party sends and times out; `attempt_timeout_ms` used to be accepted here
        # and then silently ignored.
        allowed, kind = allowed - {"attempt_timeout_ms"}, "an inbound webhook"
    if link.pattern == "grpc" and link.op is not None and link.op.streaming != "none":
        # A stream has no deadline of its own (a deadline would end every long-lived stream).
        allowed, kind = allowed - {"total_timeout_ms"}, "a streaming gRPC"
    for key in link.overrides:
        if key not in allowed:
            yield _finding(
                link,
                "error",
                "resilience-override",
                f"`resilience.{key}` does not apply to {kind} link",
                f"remove it; {kind[kind.index(' ') + 1 :]} links take: {', '.join(sorted(allowed))}",
            )


def _retries(link: Link, values: dict[str, Any], retry_safe: bool) -> Iterator[Finding]:
    attempts = values["max_attempts"]
    if attempts > 1 and not retry_safe:
        yield _finding(
            link,
            "error",
            "retry-non-idempotent",
            f"`{link.op.name if link.op else link.id}` is not idempotent and has no idempotency key, "
            f"yet it is tried {attempts} times: a retry can repeat its side effect",
            "set `resilience.max_attempts: 1`, mark the operation idempotent, or use an idempotency key",
            max_attempts=attempts,
        )
    mesh = values["mesh_retry_attempts"]
    if attempts > 1 and mesh > 0:
        yield _finding(
            link,
            "warning",
            "retry-layers",
            f"retries at two layers: the app tries {attempts} times and the mesh retries "
            f"{mesh} more per try ({attempts * (1 + mesh)} in all)",
            "retry at one layer: set `mesh_retry_attempts: 0` or `max_attempts: 1`",
            app_attempts=attempts,
            mesh_retries=mesh,
        )
    if "total_timeout_ms" not in values:
        return  # a gRPC stream: bounded by its idle timeout, not by a deadline
    total, attempt = values["total_timeout_ms"], values.get("attempt_timeout_ms", values["total_timeout_ms"])
    if total < attempt:
        yield _finding(
            link,
            "error",
            "timeout-order",
            f"total timeout {total} ms is shorter than one attempt ({attempt} ms)",
            "make `total_timeout_ms` at least `attempt_timeout_ms`",
            total_timeout_ms=total,
            attempt_timeout_ms=attempt,
        )
    sleeps = backoff_worst_ms(attempts, values["backoff_initial_ms"], values["backoff_max_ms"])
    if attempts > 1 and total < sleeps:
        yield _finding(
            link,
            "error",
            "timeout-order",
            f"total timeout {total} ms is shorter than the backoff sleeps between {attempts} attempts "
            f"({sleeps} ms): the last attempts can never run",
            "raise `total_timeout_ms` or lower `max_attempts` / backoff",
            total_timeout_ms=total,
            backoff_ms=sleeps,
        )
    if link.inter.use_case == "user-facing" and total >= 30_000:
        yield _finding(
            link,
            "warning",
            "timeout-too-long",
            f"a user waits up to {total} ms on this link; the guide says 30 s is too long",
            "derive the timeout from the callee's p99.9 latency; a few seconds at most",
            total_timeout_ms=total,
        )


def _rest(link: Link, values: dict[str, Any]) -> Iterator[Finding]:
    yield from _retries(link, values, retry_safe=bool(values["idempotent"] or values["idempotency_key"]))
    op = link.op
    if op is not None and op.streaming != "none":
        yield _finding(
            link,
            "error",
            "rest-streaming",
            f"`{op.name}` streams ({op.streaming}) but the link is REST, which cannot stream it",
            "use gRPC for this link, or make the operation unary",
        )


def _grpc(link: Link, values: dict[str, Any]) -> Iterator[Finding]:
    # UNAVAILABLE does not prove that the call was not processed (gRPC status code guide).
    yield from _retries(link, values, retry_safe=bool(values["idempotent"]))
    attempts = values["max_attempts"]
    if attempts > GRPC_MAX_ATTEMPTS:
        yield _finding(
            link,
            "error",
            "grpc-max-attempts",
            f"max_attempts {attempts} on a gRPC link: gRPC clients cap it at {GRPC_MAX_ATTEMPTS} silently",
            f"set `resilience.max_attempts` to {GRPC_MAX_ATTEMPTS} or fewer",
            max_attempts=attempts,
        )
    if not link.target.is_service:
        yield _finding(
            link,
            "error",
            "grpc-external",
            f"`{link.target.name}` is outside the system; scaffold cannot serve gRPC for it",
            "use REST for third parties",
        )


def _queue(link: Link) -> Iterator[Finding]:
    if link.inter.ordered:
        yield _finding(
            link,
            "warning",
            "queue-ordering",
            "ordering is declared, but a RabbitMQ queue reorders on redelivery and with competing consumers",
            "use an event stream (`pattern: stream` with a partition key) or a single active consumer",
        )


def _stream(link: Link, values: dict[str, Any]) -> Iterator[Finding]:
    if link.inter.ordered and values["partition_key"] is None:
        yield _finding(
            link,
            "error",
            "stream-ordering-key",
            "ordering is declared but there is no partition key: events spread over partitions lose order",
            "set `ordering_key` on the interaction or `key` on the channel (an entity id field)",
        )


def _webhook(link: Link) -> Iterator[Finding]:
    if link.source.is_service == link.target.is_service:
        yield _finding(
            link,
            "error",
            "webhook-ends",
            "a webhook links a service of this system and a third party",
            "use a queue or stream between two services",
        )


def _async_ends(link: Link) -> Iterator[Finding]:
    if not (link.source.is_service and link.target.is_service):
        yield _finding(
            link,
            "error",
            "async-external",
            f"a {link.pattern} link needs a service of this system at both ends",
            "reach third parties with REST and webhooks (`use_case: external-integration`)",
        )
