"""The spec after loading: references followed, contracts imported, defaults filled in.

This is what the planner reads. Everything is plain, immutable data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from scaffold.errors import Problem
from scaffold.spec.model import Interaction, Settings

IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})


@dataclass(frozen=True)
class MessageDef:
    name: str
    description: str
    schema: dict[str, Any]
    origin: str  # "spec", "file:<path>", "openapi:<path>" or "proto:<path>"


@dataclass(frozen=True)
class ParamDef:
    """One parameter of an operation outside its body (OpenAPI `parameters`)."""

    name: str  # as on the wire: `petId`, `X-Request-ID`
    location: str  # path | query | header | cookie
    field: str  # the property of the request message that holds it
    required: bool
    schema: dict[str, Any]  # JSON Schema of the value
    encoding: str = "plain"  # plain: the value as text; json: JSON text (OpenAPI `content`)
    # An array sent as one value, its items joined by this (OpenAPI `style: form` with
    # `explode: false`, `simple`: ","; `pipeDelimited`: "|"; `spaceDelimited`: " "); "" repeats
    # a query parameter once per item instead.
    separator: str = ""


# Where an operation's request body is: no body, the whole request message, or one property of it.
NO_BODY = ""
WHOLE_MESSAGE = "*"


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
    # Set by an OpenAPI contract, which says where each input goes. Operations written in the
    # spec leave them unset: the plan binds them by convention (placeholders, method).
    params: tuple[ParamDef, ...] | None = None
    body: str | None = None  # NO_BODY, WHOLE_MESSAGE or a property of the request message
    body_required: bool = True
    status: int | None = None  # success status; unset: 200 with a response, 204 without
    # The .proto service that declares the rpc (a contract may declare several); unset: the
    # endpoint's one service.
    grpc_service: str | None = None


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
    # The OpenAPI contract as the service serves it (what could not be imported removed).
    openapi_document: dict[str, Any] | None = None

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
    # What an imported contract could not bring along, each located in the contract.
    warnings: tuple[Problem, ...] = ()

    @property
    def services(self) -> dict[str, Endpoint]:
        return {n: e for n, e in self.endpoints.items() if e.is_service}
