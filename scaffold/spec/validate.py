"""Turn pydantic's validation errors into problems a person can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from scaffold.errors import Problem
from scaffold.spec.yaml_source import Loc, Source

# What each name shape in the model means, said the way a user fixes it.
_PATTERN_HINTS = {
    r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$": "use lower kebab-case, like `order-service`",
    r"^[A-Z][A-Za-z0-9]*$": "use PascalCase starting with a letter, like `OrderCreated`",
    r"^[a-z][a-z0-9]*([.-][a-z0-9]+)*$": "use lower-case words joined by `.` or `-`, like `order.created`",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "use a field name, like `user_id`",
    r"^/[A-Za-z0-9_\-/{}.~!$&'()*+,;=:@]*$": (
        "start with `/` and use letters, digits, `{field}` placeholders and the characters of a URL path"
        " (`-._~!$&'()*+,;=:@/`)"
    ),
    r"^[a-z][a-z0-9]*([-_.][a-z0-9]+)*$": "use lower-case words joined by `-`, `_` or `.`",
    r"^https?://[^\s\"'\\]+$": "use an http(s) URL without spaces or quotes",
}


def problems_from(error: ValidationError, source: Source, root: type[BaseModel]) -> list[Problem]:
    items = error.errors(include_url=False)
    # A misspelt required key (`use-case:`) is also reported as missing; the "unknown key, did
    # you mean `use_case`?" problem says it all, so drop the second one.
    misspelt: set[Loc] = set()
    for item in items:
        loc: Loc = tuple(item["loc"])
        close = _close_key(root, loc) if item["type"] == "extra_forbidden" and loc else None
        if close:
            misspelt.add((*loc[:-1], close))
    return [
        _one(item, tuple(item["loc"]), source, root)
        for item in items
        if not (item["type"] == "missing" and tuple(item["loc"]) in misspelt)
    ]


def _one(item: Any, loc: Loc, source: Source, root: type[BaseModel]) -> Problem:
    kind = item["type"]
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = (*loc[:-2], loc[-2]) if len(loc) >= 2 else loc[:-1]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        guess = _close_key(root, loc)
        allowed = sorted(allowed_keys(root, loc[:-1]))
        hint = f"did you mean `{guess}`?" if guess else f"allowed keys here: {', '.join(allowed)}"
        return source.problem(loc, f"unknown key `{key}`", hint)
    if kind == "missing":
        return source.problem(loc, f"required key `{loc[-1]}` is missing", "add it (see specs/README.md)")
    if kind == "literal_error":
        expected = item.get("ctx", {}).get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",") if c.strip()]
        given = str(item.get("input"))
        close = difflib.get_close_matches(given, choices, n=1, cutoff=0.5)
        hint = f"did you mean `{close[0]}`?" if close else f"use one of: {', '.join(choices)}"
        return source.problem(loc, f"`{given}` is not allowed here", hint)
    if kind == "string_pattern_mismatch":
        pattern = item.get("ctx", {}).get("pattern", "")
        what = "name" if is_key else "value"
        return source.problem(
            loc,
            f"{what} `{item.get('input')}` has the wrong shape",
            _PATTERN_HINTS.get(pattern, f"it must match {pattern}"),
        )
    if kind == "too_short":
        # pydantic says "dictionary should have at least 1 item after validation, not 0".
        ctx = item.get("ctx", {})
        least, actual = ctx.get("min_length", 1), ctx.get("actual_length", 0)
        hint = "a spec describes at least one service of its own" if loc == ("services",) else ""
        return source.problem(loc, f"needs at least {least} entr{'y' if least == 1 else 'ies'}, has {actual}", hint)
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return source.problem(loc, f"expected a mapping (`key: value` lines), got {_kind(item.get('input'))}", "")
    if kind == "list_type":
        return source.problem(loc, f"expected a list (`- item` lines), got {_kind(item.get('input'))}", "")
    if kind in {"string_type", "int_type", "int_parsing", "bool_type", "bool_parsing", "int_from_float"}:
        wanted = {"string": "text", "int": "a whole number", "bool": "true or false"}[kind.split("_")[0]]
        return source.problem(loc, f"expected {wanted}, got {_kind(item.get('input'))}", "")
    message = item["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return source.problem(loc, message[0].lower() + message[1:], "")


def _close_key(root: type[BaseModel], loc: Loc) -> str | None:
    """The allowed key that the unknown key at ``loc`` most likely meant."""
    close = difflib.get_close_matches(str(loc[-1]), sorted(allowed_keys(root, loc[:-1])), n=1, cutoff=0.6)
    return close[0] if close else None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text ({shown!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def allowed_keys(root: type[BaseModel], loc: Loc) -> set[str]:
    """The keys the model accepts at ``loc`` (aliases, as written in YAML)."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return set()
    model = _model_in(annotation)
    if model is None:
        return set()
    return {f.alias or name for name, f in model.model_fields.items()}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _step(annotation: Any, part: str | int) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _step(typing.get_args(annotation)[0], part)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is type(None):
                continue
            found = _step(arg, part)
            if found is not None:
                return found
        return None
    if origin is dict:
        return typing.get_args(annotation)[1]
    if origin is list:
        return typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
    return None
