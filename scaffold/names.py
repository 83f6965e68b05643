"""Name conversions shared by the planner and the templates (pure, predictable)."""

from __future__ import annotations

import keyword
import re

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+")


def words(name: str) -> list[str]:
    """Split ``user-service``, ``user_service``, ``UserService`` or ``order.created`` into words."""
    return [w.lower() for w in _WORD.findall(name)]


def snake(name: str) -> str:
    """``CreateOrder`` -> ``create_order``; ``user-service`` -> ``user_service``."""
    return "_".join(words(name))


def kebab(name: str) -> str:
    return "-".join(words(name))


def pascal(name: str) -> str:
    """``user-service`` -> ``UserService``."""
    return "".join(w.capitalize() for w in words(name))


def dotted(name: str) -> str:
    """``OrderCreated`` -> ``order.created`` (default channel name of a message)."""
    return ".".join(words(name))


def python_identifier_problem(name: str) -> str | None:
    """Why the snake_case form of ``name`` cannot be a Python identifier, or None."""
    ident = snake(name)
    if not ident.isidentifier():
        return f"`{name}` becomes `{ident}`, which is not a Python identifier"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident):
        return f"`{name}` becomes the Python keyword `{ident}`"
    return None
