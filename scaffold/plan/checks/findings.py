"""How a check reports: one constructor for findings, and the pattern families checks reason about."""

from __future__ import annotations

from typing import Any

from scaffold.plan.model import Finding

SYNC = frozenset({"rest", "grpc"})
ASYNC = frozenset({"queue", "stream"})


def finding(severity: str, rule: str, ids: list[str], message: str, fix: str, line: int = 0, **numbers: Any) -> Finding:
    return Finding(
        severity=severity,
        rule=rule,
        interactions=ids,
        message=message,
        numbers=numbers,
        fix=fix,
        line=line,
    )
