"""Protocol Buffers messages from JSON Schemas: the typed model a .proto template renders.

Mapping: integer -> int64, number -> double, boolean -> bool, string (and enums of strings) ->
string, array -> repeated, object with properties -> a message, `$ref` -> that message, anything
else (free-form objects, unions) -> google.protobuf.Value. Field numbers follow the schema's
property order, and every field keeps its JSON name, so protobuf's JSON mapping and the pydantic
models agree on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scaffold import names

SCALARS = {"integer": "int64", "number": "double", "boolean": "bool", "string": "string"}


@dataclass(frozen=True)
class ProtoField:
    name: str
    json_name: str
    type: str
    number: int
    repeated: bool = False
    optional: bool = False


@dataclass(frozen=True)
class ProtoMessage:
    name: str
    fields: tuple[ProtoField, ...]


@dataclass
class _Builder:
    defs: dict[str, Any]
    messages: dict[str, ProtoMessage] = field(default_factory=dict)
    uses_value: bool = False

    def message(self, name: str, schema: dict[str, Any]) -> str:
        if name in self.messages:
            return name
        self.messages[name] = ProtoMessage(name, ())  # placeholder: stops recursion
        props: dict[str, Any] = schema.get("properties", {}) or {}
        required = set(schema.get("required", []))
        fields = []
        used: set[str] = set()
        for number, (json_name, prop) in enumerate(props.items(), start=1):
            proto_name = names.snake(json_name) or f"field_{number}"
            if proto_name in used or not proto_name.isidentifier():
                proto_name = f"field_{number}"
            used.add(proto_name)
            repeated = isinstance(prop, dict) and prop.get("type") == "array"
            item = prop.get("items", {}) if repeated else prop
            type_ = self.type_of(item, f"{name}{names.pascal(json_name)}")
            scalar = type_ in SCALARS.values()
            fields.append(
                ProtoField(
                    name=proto_name,
                    json_name=json_name,
                    type=type_,
                    number=number,
                    repeated=repeated,
                    # proto3 `optional` keeps "absent" apart from "zero" for optional scalars.
                    optional=scalar and not repeated and json_name not in required,
                )
            )
        self.messages[name] = ProtoMessage(name, tuple(fields))
        return name

    def type_of(self, schema: Any, nested_name: str) -> str:
        if not isinstance(schema, dict):
            self.uses_value = True
            return "google.protobuf.Value"
        if "$ref" in schema:
            ref = str(schema["$ref"]).rsplit("/", 1)[-1]
            target = self.defs.get(ref)
            if isinstance(target, dict):
                return self.message(ref, target)
        kind = schema.get("type")
        if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
            return "string"
        if isinstance(kind, str) and kind in SCALARS:
            return SCALARS[kind]
        if (kind == "object" or kind is None) and schema.get("properties"):
            return self.message(nested_name, schema)
        self.uses_value = True
        return "google.protobuf.Value"


@dataclass(frozen=True)
class ProtoModel:
    messages: tuple[ProtoMessage, ...]
    uses_value: bool


def proto_model(messages: dict[str, dict[str, Any]]) -> ProtoModel:
    """Proto messages for the named JSON Schemas (and every message they reach)."""
    defs: dict[str, Any] = {}
    for schema in messages.values():
        defs.update(schema.get("$defs", {}))
    defs.update(messages)
    builder = _Builder(defs)
    for name in sorted(messages):
        builder.message(name, messages[name])
    ordered = tuple(builder.messages[n] for n in sorted(builder.messages))
    return ProtoModel(ordered, builder.uses_value)
