"""The service-interaction spec as typed models.

These models are the single source of truth for the spec format: the loader validates YAML
against them, ``specs/scaffold-spec.schema.json`` is generated from them, and the planner reads
them. They describe *what* talks to *what*; *how* (the transport and its resilience settings) is
decided by :mod:`scaffold.plan`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SPEC_VERSION = 1

# Names become Python packages, proto identifiers, queue and topic names: keep them to shapes
# that map onto every one of those without escaping.
ServiceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=50)]
MessageName = Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]*$", max_length=60)]
OperationName = Annotated[str, Field(pattern=r"^[A-Z][A-Za-z0-9]*$", max_length=60)]
ChannelName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*([.-][a-z0-9]+)*$", max_length=100)]
FieldName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=60)]
HttpPath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9_\-/{}.~!$&'()*+,;=:@]*$", max_length=200)]
Text = Annotated[str, Field(max_length=2000)]

UseCase = Literal[
    "user-facing",
    "background",
    "analytics",
    "high-throughput-internal",
    "external-integration",
]
Pattern = Literal["rest", "grpc", "queue", "stream", "webhook"]
Streaming = Literal["none", "server", "client", "bidi"]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

USE_CASES: tuple[str, ...] = UseCase.__args__  # type: ignore[attr-defined]
PATTERNS: tuple[str, ...] = Pattern.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HttpBinding(_Strict):
    """How an operation is exposed over REST."""

    method: HttpMethod = Field(description="HTTP method.")
    path: HttpPath = Field(description="URL path, with `{field}` placeholders.")


class Operation(_Strict):
    """A request/response operation a service (or an external API) offers.

    Operations are transport-neutral: the planner decides per interaction whether a caller
    reaches it over REST or gRPC, and the service exposes it on every transport its callers use.
    """

    description: Text = ""
    request: MessageName | None = Field(None, description="Request message (none: empty request).")
    response: MessageName | None = Field(None, description="Response message (none: empty reply).")
    idempotent: bool | None = Field(
        None,
        description="Safe to repeat. Default: true for GET, PUT and DELETE bindings, else false.",
    )
    streaming: Streaming = Field("none", description="gRPC call kind; anything but `none` needs gRPC.")
    http: HttpBinding | None = Field(None, description="REST binding. Default: `POST /<operation-name-in-kebab-case>`.")


class Contracts(_Strict):
    """Existing contracts a service implements instead of operations written in the spec."""

    proto: str | None = Field(None, description="Path to a .proto file (relative to the spec).")
    proto_paths: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list,
        description="Folders the .proto's imports are looked up in after its own folder, like protoc's "
        "--proto_path (relative to the spec, inside its folder).",
    )
    openapi: str | None = Field(None, description="Path to an OpenAPI 3 document (relative to the spec).")


class Service(_Strict):
    """A service scaffold generates."""

    description: Text = ""
    operations: dict[OperationName, Operation] = Field(default_factory=dict)
    contracts: Contracts | None = None
    publishes: list[ChannelName] = Field(
        default_factory=list, description="Channels published to beyond those interactions name."
    )
    consumes: list[ChannelName] = Field(
        default_factory=list, description="Channels consumed beyond those interactions name."
    )


class External(_Strict):
    """A system outside the project: an end-user client at the edge or a third-party API."""

    description: Text = ""
    kind: Literal["client", "api"] = Field(
        description="`client`: calls into the system (browser, mobile app, partner). "
        "`api`: a third-party API the system calls and that may send webhooks."
    )
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s\"'\\]+$", max_length=200)] | None = None
    operations: dict[OperationName, Operation] = Field(default_factory=dict)
    accepts_idempotency_key: bool = Field(
        False, description="The API deduplicates POSTs carrying an `Idempotency-Key` header."
    )


class Message(_Strict):
    """A message as JSON Schema, inline (`schema`) or in a file (`$ref`)."""

    description: Text = ""
    schema_: dict[str, Any] | None = Field(None, alias="schema", description="Inline JSON Schema.")
    ref: str | None = Field(None, alias="$ref", description="Path to a .json/.yaml JSON Schema file.")

    @model_validator(mode="after")
    def _one_source(self) -> Message:
        if (self.schema_ is None) == (self.ref is None):
            raise ValueError("give exactly one of `schema` (inline JSON Schema) or `$ref` (a file)")
        return self


class Channel(_Strict):
    """A named queue exchange or stream topic."""

    message: MessageName
    description: Text = ""
    key: FieldName | None = Field(None, description="Message field used as partition / ordering key.")


class ResilienceOverrides(_Strict):
    """Per-interaction overrides of the planned resilience settings (all optional)."""

    attempt_timeout_ms: Annotated[int, Field(ge=1, le=3_600_000)] | None = None
    total_timeout_ms: Annotated[int, Field(ge=1, le=3_600_000)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=10)] | None = None
    backoff_initial_ms: Annotated[int, Field(ge=1, le=600_000)] | None = None
    backoff_max_ms: Annotated[int, Field(ge=1, le=3_600_000)] | None = None
    breaker_failure_threshold: Annotated[int, Field(ge=1, le=1000)] | None = None
    breaker_recovery_ms: Annotated[int, Field(ge=1, le=3_600_000)] | None = None
    concurrency_limit: Annotated[int, Field(ge=1, le=100_000)] | None = None
    mesh_retry_attempts: Annotated[int, Field(ge=0, le=10)] | None = None
    idempotency_key: bool | None = None
    prefetch: Annotated[int, Field(ge=1, le=65_535)] | None = None
    delivery_limit: Annotated[int, Field(ge=1, le=1000)] | None = None
    retry_delays_ms: list[Annotated[int, Field(ge=1, le=86_400_000)]] | None = None
    handler_timeout_ms: Annotated[int, Field(ge=1, le=1_800_000)] | None = None
    tolerance_s: Annotated[int, Field(ge=1, le=3600)] | None = None


class Interaction(_Strict):
    """One link: `from` talks to `to` about an operation or a message."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*([-_.][a-z0-9]+)*$", max_length=100)] | None = Field(
        None, description="Stable name. Default: `<from>-to-<to>-<operation or message>`."
    )
    from_: ServiceName = Field(alias="from", description="Caller or publisher (service or external).")
    to: ServiceName = Field(description="Callee or consumer (service or external).")
    use_case: UseCase = Field(description="The guide's use case; it drives the pattern.")
    description: Text = ""
    operation: OperationName | None = Field(None, description="Operation of `to` that is called.")
    message: MessageName | None = Field(None, description="Message that flows (async and webhooks).")
    channel: ChannelName | None = Field(
        None,
        description="Channel for an async message. Default: from the message name (OrderCreated: order.created).",
    )
    within: OperationName | None = Field(
        None,
        description="Operation of `from` during which this call is made (sharpens timeout budget checks).",
    )
    needs_immediate_response: bool | None = None
    performance_critical: bool = False
    typed_contract: bool = Field(False, description="Needs a strongly-typed contract (favours gRPC).")
    ordered: bool = Field(False, description="Consumers need messages in order per key.")
    ordering_key: FieldName | None = None
    latency_budget_ms: Annotated[int, Field(ge=1, le=3_600_000)] | None = None
    idempotent: bool | None = Field(None, description="Overrides the operation's idempotency.")
    pattern: Pattern | None = Field(None, description="Override the decision; requires `reason`.")
    reason: Text | None = None
    resilience: ResilienceOverrides | None = None


class Settings(_Strict):
    """Thresholds of the architecture checks."""

    max_sync_depth: Annotated[int, Field(ge=1, le=20)] = 3
    max_retry_amplification: Annotated[int, Field(ge=1, le=1000)] = 10


class Spec(_Strict):
    """A service-interaction spec (version 1)."""

    version: Literal[1] = Field(description="Spec format version.")
    name: ServiceName = Field(description="System name (kebab-case).")
    description: Text = ""
    settings: Settings = Field(default_factory=Settings)
    messages: dict[MessageName, Message] = Field(default_factory=dict)
    channels: dict[ChannelName, Channel] = Field(default_factory=dict)
    services: dict[ServiceName, Service] = Field(min_length=1)
    externals: dict[ServiceName, External] = Field(default_factory=dict)
    interactions: list[Interaction] = Field(default_factory=list)
