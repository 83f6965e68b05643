"""Example values that satisfy a JSON Schema, for example handlers and generated tests."""

from __future__ import annotations

from typing import Any

import jsonschema
import referencing.exceptions

# Examples are written into generated source: a `minItems: 1000000000` must be an error, not a
# generator that fills the memory. The budget counts characters of text and items of lists and
# objects, so nested minimums that multiply up are caught too.
MAX_SAMPLE_SIZE = 10_000
# Required fields nested deeper than this only happen when a required field refers back to its
# own type: such a schema has no finite instance at all.
MAX_SAMPLE_DEPTH = 64


# Values of the string formats that validators (pydantic among them) check.
_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "duration": "PT1S",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "iri": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}


class SampleTooLarge(ValueError):
    """The smallest example a schema allows is larger than :data:`MAX_SAMPLE_SIZE` (or infinite)."""


def sample(schema: Any, defs: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A small value valid against ``schema`` (required fields only, minimal sizes).

    Raises :class:`SampleTooLarge` when the schema's minimum sizes add up past the budget.
    """
    return _Sampler().sample(schema, defs or {}, depth)


class _Sampler:
    def __init__(self) -> None:
        self.left = MAX_SAMPLE_SIZE
        self.root: Any = None

    def spend(self, amount: int) -> None:
        self.left -= amount
        if self.left < 0:
            raise SampleTooLarge(f"its smallest valid example is larger than {MAX_SAMPLE_SIZE} characters and items")

    def sample(self, schema: Any, defs: dict[str, Any], depth: int) -> Any:
        if depth > MAX_SAMPLE_DEPTH:
            raise SampleTooLarge(
                f"its required fields nest more than {MAX_SAMPLE_DEPTH} levels deep "
                "(does a required field refer back to its own type?)"
            )
        if not isinstance(schema, dict):
            return None
        if self.root is None:
            self.root = schema
        own = schema.get("$defs", {})
        if isinstance(own, dict) and own:
            defs = {**defs, **own}
        if "$ref" in schema:
            if schema["$ref"] == "#":
                return self.sample(self.root, defs, depth + 1)
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            return self.sample(defs.get(name, {}), defs, depth + 1)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        if "default" in schema:
            return schema["default"]
        for key in ("anyOf", "oneOf", "allOf"):
            options = [o for o in schema.get(key, []) if isinstance(o, dict) and o.get("type") != "null"]
            if options:
                if key == "allOf":
                    merged: dict[str, Any] = {}
                    for option in options:
                        value = self.sample(option, defs, depth + 1)
                        if isinstance(value, dict):
                            merged.update(value)
                    return merged
                return self.sample(options[0], defs, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or (kind is None and "properties" in schema):
            props = schema.get("properties", {})
            required = schema.get("required", [])
            self.spend(len(required))
            return {name: self.sample(props.get(name, {}), defs, depth + 1) for name in required}
        if kind == "array":
            count = int(schema.get("minItems", 0))
            self.spend(count)  # before building the list: the count alone may not fit in memory
            return [self.sample(schema.get("items", {}), defs, depth + 1) for _ in range(count)]
        if kind == "string":
            if schema.get("format") in _FORMATS:
                return _FORMATS[schema["format"]]
            length = max(1, int(schema.get("minLength", 1)))
            self.spend(length)
            return "x" * length
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return float(schema.get("minimum", 1.0))
        if kind == "boolean":
            return True
        return None


def counterexample(schema: Any) -> tuple[bool, Any]:
    """(True, a small value the schema refuses), or (False, None) when it accepts all of them."""
    try:
        validator = jsonschema.validators.validator_for(schema)(schema)
        candidates: tuple[Any, ...] = ([], "", 0, {}, None)
        for candidate in candidates:
            if not validator.is_valid(candidate):
                return True, candidate
    except (jsonschema.exceptions.SchemaError, referencing.exceptions.Unresolvable, RecursionError):
        pass  # a schema the validator cannot use: generated tests then skip the negative case
    return False, None
