"""Bounds on a message's JSON Schema that keep generation and the generated service finite.

A valid JSON Schema can still ask for more than a generator or a service can give: an example
of `minItems: 1000000000` items, or a chain of 500 `$ref`s that pydantic and FastAPI follow by
recursion until the stack runs out. Both are reported when the spec is loaded.
"""

from __future__ import annotations

from typing import Any

from scaffold.plan.samples import SampleTooLarge, sample

# Mappings and lists nested in a schema once local `$ref`s are followed. Real message schemas stay
# far below; FastAPI's OpenAPI document of a 500-deep chain exhausts Python's stack.
MAX_RESOLVED_DEPTH = 64
# Keywords whose values are data or names, not schemas: their contents are not followed.
_DATA_KEYWORDS = {"enum", "const", "default", "examples", "example", "required"}


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
                if key in _DATA_KEYWORDS or key in ("$defs", "definitions"):
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
