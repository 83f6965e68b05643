"""Example values that satisfy a JSON Schema, for example handlers and generated tests."""

from __future__ import annotations

import importlib
import re
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

    def target(self, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
        """The schema a `$ref` names: the root (`#`) or a `$defs` entry."""
        ref = str(schema["$ref"])
        return self.root if ref == "#" else defs.get(ref.rsplit("/", 1)[-1], {})

    def resolved(self, schema: Any, defs: dict[str, Any]) -> Any:
        """``schema`` behind its `$ref`s (a few levels: a chain of refs is rare and short)."""
        for _ in range(8):
            if not (isinstance(schema, dict) and "$ref" in schema):
                return schema
            schema = self.target(schema, defs)
        return schema

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
            return self.sample(self.target(schema, defs), defs, depth + 1)
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
                    own = {k: v for k, v in schema.items() if k not in ("allOf", "$defs", "description", "title")}
                    if "properties" in own or "required" in own:
                        # Azure's resources: `allOf: [Resource]` beside properties of their own.
                        options = [*options, own]
                    objects = [self.resolved(option, defs) for option in options]
                    if all(_is_object(o) for o in objects):
                        # One object: every branch's properties, and every property some branch requires
                        # (a branch may require what another defines).
                        merged_schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
                        for o in objects:
                            merged_schema["properties"].update(o.get("properties") or {})
                            merged_schema["required"] += [
                                r for r in o.get("required") or [] if r not in merged_schema["required"]
                            ]
                        return self.sample(merged_schema, defs, depth + 1)
                    values = [self.sample(option, defs, depth + 1) for option in options]
                    given = [value for value in values if value is not None]
                    if len(given) == 1 and not isinstance(given[0], dict):
                        # `allOf: [{$ref: a string schema}, {description: ...}]`: the value is not an object
                        return given[0]
                    merged: dict[str, Any] = {}
                    for value in values:
                        if isinstance(value, dict):
                            merged.update(value)
                    return merged
                if "items" in schema and "type" not in schema:
                    # `items` beside the branches: the models read a list (Slack's `objs_user_profile`).
                    lists = [
                        o
                        for o in options
                        if (r := self.resolved(o, defs)) and isinstance(r, dict) and r.get("type") == "array"
                    ]
                    options = lists or options
                return self.sample(options[0], defs, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or (kind is None and "properties" in schema):
            props = schema.get("properties", {})
            required = list(schema.get("required", []))
            wanted = int(schema.get("minProperties", 0))
            # Too few required properties for `minProperties`: the optional ones, then map entries.
            required += [name for name in props if name not in required][: max(0, wanted - len(required))]
            # A property of one possible value is set too: datamodel-code-generator makes it required
            # when a union discriminates on it (Spotify's `type: {enum: [artist]}`).
            required += [
                name for name in props if name not in required and _single_value(self.resolved(props[name], defs))
            ]
            self.spend(max(wanted, len(required)))
            value = {name: self.sample(props.get(name, {}), defs, depth + 1) for name in required}
            extra = schema.get("additionalProperties", {})
            for index in range(wanted - len(value)):
                value[f"key{index + 1}"] = self.sample(extra if isinstance(extra, dict) else {}, defs, depth + 1)
            return value
        if kind == "array" or (kind is None and "items" in schema):  # `items` alone: a list, to the models
            # datamodel-code-generator turns a `minLength` of an array into the list's minimum too.
            count = max(int(schema.get("minItems", 0)), int(schema.get("minLength", 0)))
            self.spend(count)  # before building the list: the count alone may not fit in memory
            return [self.sample(schema.get("items", {}), defs, depth + 1) for _ in range(count)]
        if kind == "string":
            if schema.get("format") in _FORMATS:
                return _FORMATS[schema["format"]]
            length = max(1, int(schema.get("minLength", 1)))
            self.spend(length)
            pattern = schema.get("pattern")
            if isinstance(pattern, str):
                return _matching(pattern, length, schema.get("maxLength")) or "x" * length
            return "x" * length
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return float(schema.get("minimum", 1.0))
        if kind == "boolean":
            return True
        return None


def _single_value(schema: Any) -> bool:
    enum = schema.get("enum") if isinstance(schema, dict) else None
    return isinstance(schema, dict) and ("const" in schema or (isinstance(enum, list) and len(enum) == 1))


def _is_object(schema: Any) -> bool:
    """A schema of objects only, with nothing (an `enum`, a combinator) the merge above would lose."""
    if not isinstance(schema, dict) or any(k in schema for k in ("allOf", "anyOf", "oneOf", "enum", "const", "$ref")):
        return False
    kind = schema.get("type")
    return kind == "object" or (kind is None and ("properties" in schema or "required" in schema))


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


# Python's own regex parser and its node names (the modules behind the deprecated `sre_parse` and
# `sre_constants`), as exrex and rstr use them.
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

# A character each class stands for (`\\d`, `\\w`...), and candidates for a negated class.
_CATEGORY_CHARS = {
    sre.CATEGORY_DIGIT: "0",
    sre.CATEGORY_NOT_DIGIT: "a",
    sre.CATEGORY_SPACE: " ",
    sre.CATEGORY_NOT_SPACE: "a",
    sre.CATEGORY_WORD: "a",
    sre.CATEGORY_NOT_WORD: "-",
}
_CANDIDATES = "a0A_- .x1"


def _matching(pattern: str, min_length: int, max_length: Any) -> str | None:
    """A short string that `pattern` matches (JSON Schema: anywhere in the string) within the
    length bounds, or None when none is found this simple way (lookarounds, Unicode classes...).

    Built from Python's own parse of the regex: each repetition its minimum, each alternation its
    first branch, each class its first character; then checked with the regex itself."""
    try:
        compiled = re.compile(pattern)
        text = _Matcher().text(sre_parse.parse(pattern))
    except (re.error, RecursionError, ValueError, OverflowError):
        return None
    limit = max_length if isinstance(max_length, int) else None
    for candidate in (text, text + "x" * (min_length - len(text)), "x" * (min_length - len(text)) + text):
        if len(candidate) >= min_length and (limit is None or len(candidate) <= limit) and compiled.search(candidate):
            return candidate
    return None


class _Matcher:
    def __init__(self) -> None:
        self.groups: dict[int, str] = {}
        self.size = 0

    def text(self, items: Any) -> str:
        return "".join(self.item(op, av) for op, av in items)

    def item(self, op: Any, av: Any) -> str:
        self.size += 1
        if self.size > MAX_SAMPLE_SIZE:
            raise ValueError("the pattern's smallest match is too long")
        if op is sre.LITERAL:
            return chr(av)
        if op is sre.NOT_LITERAL:
            return "a" if av != ord("a") else "b"
        if op is sre.ANY:
            return "a"
        if op is sre.IN:
            return self.one_of(av)
        if op is sre.CATEGORY:
            return _CATEGORY_CHARS.get(av, "a")
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, _high, inner = av
            return "".join(self.text(inner) for _ in range(low))
        if op is sre.SUBPATTERN:
            group, _add, _remove, inner = av
            found = self.text(inner)
            if group is not None:
                self.groups[group] = found
            return found
        if op is sre.ATOMIC_GROUP:
            return self.text(av)
        if op is sre.BRANCH:
            return self.text(av[1][0])
        if op is sre.GROUPREF:
            return self.groups.get(av, "")
        if op is sre.GROUPREF_EXISTS:
            return self.text(av[1])
        return ""  # anchors and lookarounds take no characters

    def one_of(self, items: list[tuple[Any, Any]]) -> str:
        if items and items[0][0] is sre.NEGATE:
            refused = re.compile("[" + "".join(_class_part(op, av) for op, av in items[1:]) + "]")
            return next((c for c in _CANDIDATES if not refused.fullmatch(c)), "a")
        op, av = items[0]
        if op is sre.LITERAL:
            return chr(av)
        if op is sre.RANGE:
            return chr(av[0])
        if op is sre.CATEGORY:
            return _CATEGORY_CHARS.get(av, "a")
        return "a"


def _class_part(op: Any, av: Any) -> str:
    """One member of a character class, written back as regex text."""
    if op is sre.LITERAL:
        return re.escape(chr(av))
    if op is sre.RANGE:
        return f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}"
    if op is sre.CATEGORY:
        return {v: k for k, v in _CATEGORY_TEXT.items()}.get(av, "")
    return ""


_CATEGORY_TEXT = {
    "\\d": sre.CATEGORY_DIGIT,
    "\\D": sre.CATEGORY_NOT_DIGIT,
    "\\s": sre.CATEGORY_SPACE,
    "\\S": sre.CATEGORY_NOT_SPACE,
    "\\w": sre.CATEGORY_WORD,
    "\\W": sre.CATEGORY_NOT_WORD,
}
