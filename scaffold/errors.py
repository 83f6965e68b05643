"""Problems in user input, collected as data and rendered once, never as tracebacks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where, what, and how to fix it."""

    file: str = ""
    line: int = 0
    column: int = 0
    field: str = ""
    message: str = ""
    hint: str = ""

    def render(self) -> str:
        where = self.file or "<spec>"
        if self.line:
            where += f":{self.line}:{self.column or 1}"
        text = f"{where}: "
        if self.field:
            text += f"{self.field}: "
        text += self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ScaffoldError(Exception):
    """Base of every error scaffold reports to the user (exit code 2 unless said otherwise)."""

    exit_code = 2


class SpecInvalid(ScaffoldError):
    """The spec cannot be loaded; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.render() for p in self.problems))


class GenerationFailed(ScaffoldError):
    """A step of `scaffold generate` (copier, a code generator, protoc, ruff) failed; nothing was written.

    Carries where, what and how to fix as problems, rendered like those of an invalid spec."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


def field_path(loc: Iterable[object]) -> str:
    """Render a location tuple the way a user writes it: ``services.user-service.operations[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
