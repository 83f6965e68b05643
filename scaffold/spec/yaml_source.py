"""Read YAML into plain data while remembering where every key and item stood."""

from __future__ import annotations

import math
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import Problem, SpecInvalid

MAX_BYTES = 5 * 1024 * 1024
# Anchors and aliases can expand a small file into a huge tree ("billion laughs").
MAX_NODES = 200_000
# Nesting depth: real specs stay under 15; much deeper trees exhaust the stack downstream.
MAX_DEPTH = 100

Loc = tuple[str | int, ...]


@dataclass
class Source:
    """A parsed YAML (or JSON) document and the position of every node in it."""

    path: str
    data: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Loc) -> tuple[int, int]:
        """Line and column of ``loc`` or of its nearest ancestor that has one (1-based)."""
        loc = tuple(loc)
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return self.positions.get((), (1, 1))

    def problem(self, loc: Loc, message: str, hint: str = "", field_name: str = "") -> Problem:
        from scaffold.errors import field_path

        line, column = self.where(loc)
        return Problem(
            file=self.path,
            line=line,
            column=column,
            field=field_name or field_path(loc),
            message=message,
            hint=hint,
        )


_SPECIAL = "is not a regular file (a device, FIFO or socket)"
_SPECIAL_HINT = "point at a regular file"


def special_file_problem(path: Path) -> str | None:
    """Why ``path`` exists but is not a file one can read to its end (a device, FIFO, socket), or None."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None  # missing or unreadable: the reader says so
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else _SPECIAL


def read_text(path: Path, display: str) -> str:
    """Read a UTF-8 text file, turning every way that can fail into a :class:`SpecInvalid`."""

    def fail(message: str, hint: str) -> SpecInvalid:
        return SpecInvalid([Problem(file=display, message=message, hint=hint)])

    try:
        if path.is_dir():
            raise fail("is a directory, not a spec file", "pass the path of a .yaml file")
        if not stat.S_ISREG(path.stat().st_mode):
            # Opening a FIFO blocks until someone writes to it; /dev/zero never ends.
            raise fail(_SPECIAL, _SPECIAL_HINT)
        # O_NONBLOCK: should the path have become a FIFO since, opening it does not wait.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise fail(_SPECIAL, _SPECIAL_HINT)
            if info.st_size > MAX_BYTES:
                raise fail(
                    f"file is {info.st_size} bytes; the limit is {MAX_BYTES}",
                    "split large schemas into files referenced with `$ref`",
                )
            # Read at most one byte past the limit: the file may grow while it is read.
            raw = stream.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise fail(
                f"file is larger than {MAX_BYTES} bytes", "split large schemas into files referenced with `$ref`"
            )
    except FileNotFoundError:
        raise fail("file not found", "check the path; relative paths start at the spec's folder") from None
    except PermissionError:
        raise fail("file cannot be read (permission denied)", "check the file's permissions") from None
    except OSError as exc:
        raise fail(f"file cannot be read ({exc.strerror})", "check the path") from None
    except ValueError:
        # os.stat raises ValueError, not OSError, for a path with a NUL character (`$ref: "a\0.json"`).
        raise fail("path is not valid (it contains a NUL character)", "check the path") from None
    if b"\x00" in raw:
        raise fail("file is binary (it contains NUL bytes)", "pass a YAML text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Say where the bad byte is, as line:column, so an editor can jump to it.
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise SpecInvalid(
            [
                Problem(
                    file=display,
                    line=raw.count(b"\n", 0, exc.start) + 1,
                    column=column,
                    message=f"file is not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x})",
                    hint="save the file as UTF-8",
                )
            ]
        ) from None
    if not text.strip():
        raise fail("file is empty", "start from specs/examples/guide.yaml")
    return text


# Scalars are kept to what JSON has: a JSON Schema `default: 2024-01-31` must stay text, not
# become a `datetime.date` nothing downstream can serialise. Other explicit tags (`!!binary`,
# `!!set`, `!!python/...`, `!custom`) have no meaning in a spec and are rejected.
_TAG = "tag:yaml.org,2002:"
# A plain `=` resolves to `!!value` and a plain `<<` value to `!!merge`: both are just text here.
_AS_TEXT = {_TAG + "timestamp", _TAG + "value", _TAG + "merge"}
_SCALAR_TAGS = {_TAG + "str", _TAG + "int", _TAG + "float", _TAG + "bool", _TAG + "null"}
_COLLECTION_TAGS = {_TAG + "map", _TAG + "seq"}


# Characters that are never part of a spec's text: control characters (a NUL ends C strings, an ESC
# drives terminals) and the bidi controls that make source read differently from how it runs
# ("Trojan Source", CVE-2021-42574). YAML's reader refuses them raw, not as `"\\x1b"` escapes.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def forbidden_character(text: str) -> str | None:
    """What is wrong with the first character of ``text`` a spec may not contain, or None."""
    for index, char in enumerate(text):
        if char in _BIDI_CONTROLS:
            return f"U+{ord(char):04X} {unicodedata.name(char)} (a bidi control) at character {index + 1}"
        if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS:
            return f"the control character U+{ord(char):04X} at character {index + 1}"
    return None


# JSON Schema numbers end up as Python literals in generated code: keep them to what JSON and
# 64-bit integers hold (NaN and infinity are no JSON; `0x` + 5,000 digits cannot even be printed).
MAX_INTEGER = 2**64


def _value_problem(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str):
        found = forbidden_character(value)
        if found:
            return f"text contains {found}", "remove it; write it out in words if it matters"
    elif isinstance(value, float) and not math.isfinite(value):
        return f"`{value}` is not a number JSON allows", "use a finite number, or leave the bound out"
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        return "number is too large", "use a number between -2**64 and 2**64"
    return None


def value_problems(source: Source) -> list[Problem]:
    """The strings and numbers of ``source.data`` a spec may not hold, each where it stands.

    :func:`parse_yaml` already refuses them as it reads; this covers a tree built another way.
    """
    problems: list[Problem] = []
    pending: list[tuple[Any, Loc]] = [(source.data, ())]
    while pending:
        node, loc = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                wrong = _value_problem(key)
                if wrong:
                    problems.append(source.problem((*loc, key), *wrong))
                pending.append((value, (*loc, key)))
        elif isinstance(node, list):
            pending.extend((item, (*loc, index)) for index, item in enumerate(node))
        else:
            wrong = _value_problem(node)
            if wrong:
                problems.append(source.problem(loc, *wrong))
    return problems


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _syntax_problem(exc: yaml.MarkedYAMLError, display: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    message = (exc.problem or str(exc)).strip()
    context = (exc.context or "").strip()
    start = exc.context_mark
    # PyYAML often notices a problem far from its cause (an unclosed quote only at the end of
    # the file), so say where the construct it was reading started.
    if context.startswith("while") and start is not None and mark is not None and start.line != mark.line:
        context += f" (which starts at line {start.line + 1}, column {start.column + 1})"
    if context:
        message = f"{context}: {message}"
    hint = "check indentation and quoting around this line"
    if "'\\t'" in message:
        hint = "indent with spaces: YAML does not allow tabs"
    elif "another document" in message:
        hint = "a spec is a single YAML document: remove the `---` line and what follows it"
    return Problem(file=display, line=line, column=column, message=f"YAML syntax error: {message}", hint=hint)


def parse_yaml(text: str, display: str) -> Source:
    """Parse one YAML document; reject duplicate keys, non-string keys and alias bombs."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        # PyYAML checks the whole text for control characters (a pasted terminal colour code,
        # say) when the loader is made, before any of the errors below can happen.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        problem = Problem(
            file=display,
            line=line,
            column=column,
            message=f"character U+{exc.character:04X} is not allowed in YAML",
            hint="remove it: YAML allows printable characters, tabs and line breaks",
        )
        raise SpecInvalid([problem]) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise SpecInvalid([_syntax_problem(exc, display)]) from None
    except yaml.YAMLError as exc:
        raise SpecInvalid([Problem(file=display, message=f"YAML error: {exc}")]) from None
    except RecursionError:
        # PyYAML's composer recurses once per nesting level: `[[[[...]]]]` exhausts the stack.
        raise SpecInvalid([Problem(file=display, message="document is nested too deeply")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecInvalid([Problem(file=display, message="file holds no YAML document", hint="")])
    source = Source(path=display, data=None)
    problems: list[Problem] = []
    budget = [MAX_NODES]

    def scalar(n: yaml.ScalarNode, loc: Loc) -> Any:
        if n.tag in _AS_TEXT:
            return n.value
        if n.tag not in _SCALAR_TAGS:
            problems.append(_at(display, n, loc, f"YAML tag `{_tag_name(n.tag)}` is not supported", "remove the tag"))
            return None
        try:
            value = loader.construct_object(n, deep=True)
        except (ValueError, LookupError, yaml.YAMLError):
            # An explicit tag on a value that does not fit it (`!!int ten`, `!!bool maybe`, a bare
            # `!!int`) or an integer over Python's 4300-digit limit: PyYAML's constructors raise
            # plain ValueError, KeyError or IndexError for these.
            shown = n.value if len(n.value) <= 40 else n.value[:37] + "..."
            implicit = loader.resolve(yaml.ScalarNode, n.value, (True, False))  # type: ignore[no-untyped-call]
            if n.tag == implicit:
                problems.append(_at(display, n, loc, f"number `{shown}` is too large", "use a smaller number"))
            else:
                what = f"`{shown}`" if shown else "an empty value"
                problems.append(_at(display, n, loc, f"{what} is not a valid `{_tag_name(n.tag)}`", "remove the tag"))
            return None
        wrong = _value_problem(value)
        if wrong:
            problems.append(_at(display, n, loc, *wrong))
            return None
        return value

    def walk(n: yaml.Node, loc: Loc) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise SpecInvalid(
                [
                    Problem(
                        file=display,
                        message=f"document expands to more than {MAX_NODES} nodes",
                        hint="avoid deeply nested YAML aliases",
                    )
                ]
            )
        if len(loc) > MAX_DEPTH:
            # Deeper trees are never a real spec and make JSON Schema validation exhaust the stack.
            raise SpecInvalid(
                [_at(display, n, (), f"document is nested more than {MAX_DEPTH} levels deep", "flatten it")]
            )
        if isinstance(n, yaml.ScalarNode):
            return scalar(n, loc)
        if n.tag not in _COLLECTION_TAGS:
            problems.append(_at(display, n, loc, f"YAML tag `{_tag_name(n.tag)}` is not supported", "remove the tag"))
            return None
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in n.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    problems.append(
                        _at(
                            display,
                            key_node,
                            loc,
                            "YAML merge keys (`<<`) are not supported",
                            "write the keys out",
                        )
                    )
                    continue
                reported = len(problems)
                key = scalar(key_node, loc) if isinstance(key_node, yaml.ScalarNode) else None
                if len(problems) > reported:
                    continue
                if not isinstance(key, str) or not isinstance(key_node, yaml.ScalarNode):
                    problems.append(_at(display, key_node, loc, "keys must be plain strings", ""))
                    continue
                key_loc = (*loc, key)
                if key in out:
                    problems.append(
                        _at(
                            display,
                            key_node,
                            key_loc,
                            f"duplicate key `{key}`",
                            "each key may appear once; merge the two entries",
                        )
                    )
                    continue
                source.positions[key_loc] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = walk(value_node, key_loc)
            return out
        items = []
        for index, item in enumerate(n.value):
            item_loc = (*loc, index)
            source.positions[item_loc] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(walk(item, item_loc))
        return items

    source.positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
    try:
        source.data = walk(node, ())
    except yaml.YAMLError as exc:
        raise SpecInvalid([Problem(file=display, message=f"YAML error: {exc}")]) from None
    except RecursionError:
        raise SpecInvalid([Problem(file=display, message="document is nested too deeply")]) from None
    if problems:
        raise SpecInvalid(problems)
    return source


def _at(display: str, node: yaml.Node, loc: Loc, message: str, hint: str) -> Problem:
    from scaffold.errors import field_path

    return Problem(
        file=display,
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
        field=field_path(loc),
        message=message,
        hint=hint,
    )


def load_source(path: Path, display: str) -> Source:
    """Read and parse a YAML or JSON file."""
    return parse_yaml(read_text(path, display), display)
