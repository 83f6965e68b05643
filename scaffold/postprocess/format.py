"""Format generated code with ruff so every project starts in the house style."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from scaffold.errors import GenerationFailed, Problem

# ruff names the file it could not handle as `path:line:column: message`.
_LOCATED = re.compile(
    r"^(?:error: )?(?:Failed to \w+ )?(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<column>\d+): (?P<what>.+)$"
)
_HINT = "ruff could not format code scaffold generated: a bug in scaffold; report it with the spec"


class FormatFailed(GenerationFailed):
    """ruff failed on the generated tree."""


def format_tree(root: Path, paths: tuple[str, ...] = (".",)) -> None:
    """Sort imports, drop unused ones, write `typing.Dict` and its kin as builtins (as
    datamodel-code-generator still does for typed extra properties) and format ``paths`` (relative to
    ``root``), with the ruff settings of the project at ``root``."""
    ruff = _ruff()
    _run([*ruff, "check", "--no-cache", "--fix-only", "--select", "I,F401,UP006", "--", *paths], root)
    _run([*ruff, "format", "--no-cache", "--", *paths], root)


def _ruff() -> list[str]:
    """The ruff executable this Python's ruff package ships (what `python -m ruff` runs, without starting
    Python), else the module through this Python."""
    try:
        from ruff import find_ruff_bin  # type: ignore[import-untyped]

        return [str(find_ruff_bin())]
    except (ImportError, FileNotFoundError):
        return [sys.executable, "-m", "ruff"]


def _run(command: list[str], root: Path) -> None:
    try:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        what = "check" if "check" in command else "format"
        raise FormatFailed([Problem(file="ruff", message=f"cannot run ruff {what}: {exc}", hint=_HINT)]) from exc
    if result.returncode == 0:
        return
    # ruff reports errors on stderr; stdout only has its summary ("1 file left unchanged").
    output = (result.stderr.strip() or result.stdout.strip()).splitlines()
    problems = [_problem(line) for line in output if line.strip()]
    raise FormatFailed(problems or [Problem(file="ruff", message=f"exit {result.returncode}", hint=_HINT)])


def _problem(line: str) -> Problem:
    located = _LOCATED.match(line.strip())
    if located:
        return Problem(
            file=located["file"],
            line=int(located["line"]),
            column=int(located["column"]),
            message=f"ruff: {located['what']}",
            hint=_HINT,
        )
    return Problem(file="ruff", message=line.strip(), hint=_HINT)
