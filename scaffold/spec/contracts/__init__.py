"""Import contracts a team already has: a .proto file (`proto`) or an OpenAPI 3 document (`openapi`).

Both become the plain data the spec itself yields (operations, and messages as self-contained
JSON Schema), so the planner never needs to know where an operation came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.errors import Problem
from scaffold.spec.resolved import MessageDef, OperationDef

# Operation and message names become class names and proto identifiers (see scaffold.spec.model).
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
PASCAL_HINT = "use PascalCase starting with a letter, like `OrderCreated`"
# Same shape as HttpPath in scaffold.spec.model: the REST generator relies on it.
# RFC 3986 path characters (`pchar`: unreserved, sub-delims, ":" and "@"), without "%": a path as
# routes see it, decoded. Google's `/v1/{name}:cancel` custom methods, OData's `$metadata`.
HTTP_PATH = re.compile(r"^/[A-Za-z0-9_\-/{}.~!$&'()*+,;=:@]*$")


@dataclass(frozen=True)
class ImportedContract:
    operations: dict[str, OperationDef]  # key = operation name (PascalCase), source order
    messages: dict[str, MessageDef]  # key = message name (PascalCase), sorted
    proto_package: str | None = None  # proto `package` of the file, if any
    proto_service: str | None = None  # name of the (first) proto service
    proto_descriptor: bytes = b""  # FileDescriptorSet of the file and its imports, without comments
    proto_main: str = ""  # the file's name inside that set
    proto_types: dict[str, str] | None = None  # message name -> full proto name (".pkg.Name")
    # What was skipped or changed on the way in, each with where and why.
    warnings: tuple[Problem, ...] = ()
    # Message name -> the contract's own name, for schemas renamed to PascalCase.
    renamed: dict[str, str] = field(default_factory=dict)
    # The contract as a service built from it serves it (operations that were skipped removed).
    document: dict[str, Any] | None = None


def import_proto(path: Path, display: str, includes: Sequence[Path] = ()) -> ImportedContract:
    from scaffold.spec.contracts.proto import import_proto as _import

    return _import(path, display, includes)


def import_openapi(path: Path, display: str) -> ImportedContract:
    from scaffold.spec.contracts.openapi import import_openapi as _import

    return _import(path, display)
