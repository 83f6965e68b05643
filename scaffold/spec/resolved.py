"""The spec after loading: references followed, contracts imported, defaults filled in.

This is what the planner reads. Everything is plain, immutable data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from scaffold.spec.model import Interaction, Settings

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})


@dataclass(frozen=True)
class MessageDef:
    name: str
    description: str
    schema: dict[str, Any]
    origin: str  # "spec", "file:<path>", "openapi:<path>" or "proto:<path>"


@dataclass(frozen=True)
class OperationDef:
    name: str
    description: str
    request: str | None
    response: str | None
    idempotent: bool
    streaming: str  # none | server | client | bidi
    http_method: str
    http_path: str
    # Which transports the operation can be offered on: a .proto contract fixes gRPC,
    # an OpenAPI contract fixes REST; operations written in the spec allow both.
    transports: frozenset[str] = frozenset({"rest", "grpc"})


@dataclass(frozen=True)
class Endpoint:
    """A service of the project, or an external system."""

    name: str
    kind: Literal["service", "client", "api"]
    description: str
    operations: dict[str, OperationDef]
    publishes: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    base_url: str | None = None
    accepts_idempotency_key: bool = False
    proto_file: str | None = None  # absolute path of a referenced .proto contract
    proto_package: str | None = None
    proto_service: str | None = None
    # The contract as protoc compiled it (FileDescriptorSet without comments), the file's name in
    # it, and the full proto name of each of its messages: what generated code is compiled from.
    proto_descriptor: bytes = b""
    proto_main: str = ""
    proto_types: tuple[tuple[str, str], ...] = ()
    openapi_file: str | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"


@dataclass(frozen=True)
class ChannelDef:
    name: str
    message: str
    description: str
    key: str | None


@dataclass(frozen=True)
class LoadedSpec:
    path: str
    name: str
    description: str
    settings: Settings
    messages: dict[str, MessageDef]
    channels: dict[str, ChannelDef]
    endpoints: dict[str, Endpoint]
    interactions: tuple[Interaction, ...]
    # Line and column of each interaction, for findings.
    interaction_positions: tuple[tuple[int, int], ...] = field(default=())

    @property
    def services(self) -> dict[str, Endpoint]:
        return {n: e for n, e in self.endpoints.items() if e.is_service}
