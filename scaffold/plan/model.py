"""The plan: every interaction's pattern, the reason for it, and concrete resilience values.

Plain data all the way down, so that ``plan --json`` and copier templates can take it as is.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning"]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class PlannedInteraction(_Data):
    id: str
    from_: str = Field(alias="from")
    to: str
    use_case: str
    operation: str | None = None
    message: str | None = None
    channel: str | None = None
    pattern: str
    rule: str
    reason: str
    resilience: dict[str, Any]
    line: int = 0

    @property
    def synchronous(self) -> bool:
        return self.pattern in ("rest", "grpc")


class Finding(_Data):
    severity: Severity
    rule: str
    interactions: list[str]
    message: str
    numbers: dict[str, Any] = Field(default_factory=dict)
    fix: str
    line: int = 0


class Plan(_Data):
    name: str
    interactions: list[PlannedInteraction]
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def to_json_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
