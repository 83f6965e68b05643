"""Bounds on a message's JSON Schema that keep generation and the generated service finite.

A valid JSON Schema can still ask for more than a generator or a service can give: an example
of `minItems: 1000000000` items, or a chain of 500 `$ref`s that pydantic and FastAPI follow by
recursion until the stack runs out. Both are reported when the spec is loaded.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pydantic_core

from scaffold.plan.samples import SampleTooLarge, sample

# Mappings and lists nested in a schema once local `$ref`s are followed. Real message schemas stay
# far below; FastAPI's OpenAPI document of a 500-deep chain exhausts Python's stack.
MAX_RESOLVED_DEPTH = 64
# Keywords whose values are data or names, not schemas: their contents are not followed.
DATA_KEYWORDS = {"enum", "const", "default", "examples", "example", "required"}


def schema_problem(schema: dict[str, Any]) -> tuple[str, str] | None:
    """What makes ``schema`` too large to generate from, and a hint; or None."""
    if resolved_depth(schema) > MAX_RESOLVED_DEPTH:
        return (
            f"it nests more than {MAX_RESOLVED_DEPTH} levels deep once its `$ref`s are followed",
            "flatten the chain of `$ref`s",
        )
    try:
        sample(schema)
    except SampleTooLarge as exc:
        return str(exc), "lower `minItems`/`minLength`, or make a field that refers back to its type optional"
    return None


def resolved_depth(schema: dict[str, Any]) -> int:
    """How deep ``schema`` nests when its local `$ref`s (`#/$defs/X`, `#/definitions/X`) are
    followed; a reference back into a definition being followed (recursion) counts as a leaf."""
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        found = schema.get(key)
        if isinstance(found, dict):
            defs.update(found)
    known: dict[str, int] = {}
    active: set[str] = set()

    def of_ref(name: str) -> int:
        if name in known:
            return known[name]
        if name in active or name not in defs:
            return 0
        if len(active) > MAX_RESOLVED_DEPTH:
            return MAX_RESOLVED_DEPTH  # each reference followed is a level: deep enough to refuse
        active.add(name)
        depth = walk(defs[name])
        active.discard(name)
        known[name] = depth
        return depth

    def walk(node: Any) -> int:
        # Recursive over depth: the loader caps a document at 100 levels, and references are cut
        # off past the limit, so the stack stays shallow; `known` counts every definition once.
        if isinstance(node, dict):
            deepest = 0
            for key, value in node.items():
                if key in DATA_KEYWORDS or key in ("$defs", "definitions"):
                    continue
                if key == "$ref" and isinstance(value, str):
                    deepest = max(deepest, of_ref(value.rsplit("/", 1)[-1]))
                else:
                    deepest = max(deepest, walk(value))
            return 1 + deepest
        if isinstance(node, list):
            return 1 + max((walk(item) for item in node), default=0)
        return 0

    return walk(schema)


def without_unreadable_patterns(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``schema`` without the `pattern`s that the generated models could not compile, and those
    patterns (in order, once each).

    pydantic compiles patterns with Rust's regex, which has no lookarounds or back-references;
    datamodel-code-generator then switches the model to Python's `re`, which has no Unicode classes
    (`\\p{L}`). AWS's contracts have both kinds in one message: every model of it failed at import.
    So a message with a pattern only `re` reads keeps only the patterns `re` reads."""
    patterns: list[str] = []

    def collect(node: Any, key: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                collect(item, None)
        elif isinstance(node, dict) and key not in DATA_KEYWORDS:
            if isinstance(node.get("pattern"), str) and node["pattern"] not in patterns:
                patterns.append(node["pattern"])
            for k, v in node.items():
                collect(v, k)

    collect(schema, None)
    python_re = any(not _rust_reads(p) for p in patterns)
    dropped = [p for p in patterns if not (_python_reads(p) if python_re else _rust_reads(p) or _python_reads(p))]
    if not dropped:
        return schema, []

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, list):
            return [walk(item, None) for item in node]
        if not isinstance(node, dict) or key in DATA_KEYWORDS:
            return node
        out = {k: walk(v, k) for k, v in node.items()}
        if out.get("pattern") in dropped:
            del out["pattern"]
        return out

    return walk(schema, None), dropped


@functools.lru_cache(maxsize=4096)
def _rust_reads(pattern: str) -> bool:
    try:
        pydantic_core.SchemaValidator(pydantic_core.core_schema.str_schema(pattern=pattern))
    except pydantic_core.SchemaError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _python_reads(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True
