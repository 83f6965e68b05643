"""Every generated Python file must compile before anything reaches the destination.

Generated code that does not compile is a bug in scaffold, or input that smuggled text into code;
either way nothing is written. Compiling (not only parsing) also catches what the compiler rejects
after parsing, such as `return` outside a function. Nothing is executed.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from scaffold.errors import GenerationFailed, Problem

_HINT = (
    "scaffold generated code that does not compile: a bug in scaffold or text in the spec or a contract "
    "that breaks out of where it belongs; report it with the spec (nothing was written)"
)


# Sources known to compile (kind, digest): a file is checked before formatting and again, mostly
# unchanged, once everything is written.
_COMPILED: set[tuple[str, bytes]] = set()


class GeneratedCodeInvalid(GenerationFailed):
    """A generated Python file does not compile."""


def check_python_sources(root: Path, paths: tuple[str, ...] = (".",)) -> None:
    """Compile every `.py` (and parse every `.pyi`) under ``paths`` of ``root`` (files or folders);
    name each file that fails, relative to ``root``."""
    problems = []
    found = (sorted((root / p).rglob("*.py*")) if (root / p).is_dir() else [root / p] for p in paths)
    for path in (each for group in found for each in group):
        if path.suffix not in (".py", ".pyi") or not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        try:
            source = path.read_bytes()
            digest = (path.suffix, hashlib.blake2b(source, digest_size=16).digest())
            if digest in _COMPILED:
                continue  # the same text compiled before, in this process
            if path.suffix == ".pyi":
                ast.parse(source, filename=relative)
            else:
                compile(source, relative, "exec", dont_inherit=True)
            _COMPILED.add(digest)
        except SyntaxError as exc:
            what = exc.msg or "invalid syntax"
            problems.append(Problem(relative, exc.lineno or 0, exc.offset or 0, "", f"does not compile: {what}", _HINT))
        except (ValueError, UnicodeDecodeError) as exc:  # NUL bytes, undecodable text
            problems.append(Problem(relative, 0, 0, "", f"does not compile: {exc}", _HINT))
    if problems:
        raise GeneratedCodeInvalid(problems)
