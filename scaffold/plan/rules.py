"""The decision table: which pattern a link gets, and why. Pure functions, no I/O.

The rows follow the guide's table:

| use case                     | pattern                      |
|------------------------------|------------------------------|
| user-facing requests         | REST or gRPC (synchronous)   |
| background processing        | message queue                |
| analytics / logging          | event stream (Kafka)         |
| high-throughput internal API | gRPC                         |
| external integrations        | REST with webhooks           |
"""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.spec.model import Interaction
from scaffold.spec.resolved import Endpoint, OperationDef


@dataclass(frozen=True)
class Decision:
    pattern: str
    rule: str
    reason: str


@dataclass(frozen=True)
class Rule:
    name: str
    use_case: str
    pattern: str
    when: str


# The table `scaffold explain` prints; `decide` below implements exactly these rows, in order.
RULES: tuple[Rule, ...] = (
    Rule("override", "any", "as given", "`pattern` is set; it needs a `reason`"),
    Rule("contract-grpc", "any synchronous", "grpc", "the callee's operation comes from a .proto contract"),
    Rule("contract-rest", "any synchronous", "rest", "the callee's operation comes from an OpenAPI contract"),
    Rule("user-facing-edge", "user-facing", "rest", "called from a client at the edge (browser, app, partner)"),
    Rule("user-facing-streaming", "user-facing", "grpc", "internal hop on a streaming operation"),
    Rule("user-facing-performance", "user-facing", "grpc", "internal hop marked performance_critical"),
    Rule("user-facing-typed", "user-facing", "grpc", "internal hop that needs a strongly-typed contract"),
    Rule("user-facing-rest", "user-facing", "rest", "any other internal hop a user waits on"),
    Rule("background-queue", "background", "queue", "work nobody waits on: RabbitMQ"),
    Rule("analytics-stream", "analytics", "stream", "events for analytics and logging: Kafka"),
    Rule("high-throughput-grpc", "high-throughput-internal", "grpc", "internal calls at volume"),
    Rule("external-rest", "external-integration", "rest", "a call to or from a third party"),
    Rule("external-webhook", "external-integration", "webhook", "a message to or from a third party"),
)


def decide(inter: Interaction, source: Endpoint, target: Endpoint, op: OperationDef | None) -> Decision:
    """Pick the pattern of one interaction. ``op`` is the called operation, if any."""
    if inter.pattern is not None:
        return Decision(inter.pattern, "override", inter.reason or "overridden without a reason")
    use_case = inter.use_case
    synchronous = use_case in ("user-facing", "high-throughput-internal") or (
        use_case == "external-integration" and inter.operation is not None
    )
    if synchronous and op is not None and len(op.transports) == 1:
        (only,) = op.transports
        kind = "a .proto" if only == "grpc" else "an OpenAPI"
        return Decision(only, f"contract-{only}", f"`{target.name}.{op.name}` comes from {kind} contract")
    if use_case == "user-facing":
        return _user_facing(inter, source, op)
    if use_case == "background":
        return Decision(
            "queue",
            "background-queue",
            "nobody waits on background work: a RabbitMQ queue decouples it, buffers bursts and retries",
        )
    if use_case == "analytics":
        return Decision(
            "stream",
            "analytics-stream",
            "analytics and logging events go to a Kafka stream: consumers read independently and can replay",
        )
    if use_case == "high-throughput-internal":
        return Decision(
            "grpc",
            "high-throughput-grpc",
            "high-throughput internal API: gRPC's protobuf over HTTP/2 is compact and strongly typed",
        )
    if inter.message is not None:
        direction = "from" if not source.is_service else "to"
        third = source.name if not source.is_service else target.name
        return Decision(
            "webhook",
            "external-webhook",
            f"events {direction} the third party `{third}` travel as signed webhooks (Standard Webhooks)",
        )
    return Decision(
        "rest",
        "external-rest",
        "external integration: third parties speak REST over HTTPS",
    )


def _user_facing(inter: Interaction, source: Endpoint, op: OperationDef | None) -> Decision:
    if not source.is_service:
        return Decision(
            "rest",
            "user-facing-edge",
            f"a user waits on it and `{source.name}` calls from the edge: REST (HTTP/JSON) at the edge",
        )
    if op is not None and op.streaming != "none":
        return Decision(
            "grpc",
            "user-facing-streaming",
            f"a user waits on it and `{op.name}` streams ({op.streaming}): gRPC streams natively",
        )
    if inter.performance_critical:
        return Decision(
            "grpc",
            "user-facing-performance",
            "a user waits on it and the internal hop is performance-critical: gRPC",
        )
    if inter.typed_contract:
        return Decision(
            "grpc",
            "user-facing-typed",
            "a user waits on it and the hop needs a strongly-typed contract: gRPC with protobuf",
        )
    return Decision(
        "rest",
        "user-facing-rest",
        "a user waits on it; no streaming or performance need: REST is simplest to run and debug",
    )
