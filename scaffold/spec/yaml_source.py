"""Read YAML into plain data while remembering where every key and item stood."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import Problem, SpecInvalid

MAX_BYTES = 5 * 1024 * 1024
# Anchors and aliases can expand a small file into a huge tree ("billion laughs").
MAX_NODES = 200_000

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


def read_text(path: Path, display: str) -> str:
    """Read a UTF-8 text file, turning every way that can fail into a :class:`SpecInvalid`."""

    def fail(message: str, hint: str) -> SpecInvalid:
        return SpecInvalid([Problem(file=display, message=message, hint=hint)])

    try:
        if path.is_dir():
            raise fail("is a directory, not a spec file", "pass the path of a .yaml file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise fail(
                f"file is {size} bytes; the limit is {MAX_BYTES}",
                "split large schemas into files referenced with `$ref`",
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail("file not found", "check the path; relative paths start at the spec's folder") from None
    except PermissionError:
        raise fail("file cannot be read (permission denied)", "check the file's permissions") from None
    except OSError as exc:
        raise fail(f"file cannot be read ({exc.strerror})", "check the path") from None
    if b"\x00" in raw:
        raise fail("file is binary (it contains NUL bytes)", "pass a YAML text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"file is not UTF-8 text (byte {exc.start})", "save the file as UTF-8") from None
    if not text.strip():
        raise fail("file is empty", "start from specs/examples/guide.yaml")
    return text


def parse_yaml(text: str, display: str) -> Source:
    """Parse one YAML document; reject duplicate keys, non-string keys and alias bombs."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = (exc.problem or str(exc)).strip()
        if exc.context:
            message = f"{exc.context.strip()}: {message}"
        raise SpecInvalid(
            [
                Problem(
                    file=display,
                    line=line,
                    column=column,
                    message=f"YAML syntax error: {message}",
                    hint="check indentation and quoting around this line",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecInvalid([Problem(file=display, message=f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise SpecInvalid([Problem(file=display, message="file holds no YAML document", hint="")])
    source = Source(path=display, data=None)
    problems: list[Problem] = []
    budget = [MAX_NODES]

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
                key = loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
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
        if isinstance(n, yaml.SequenceNode):
            items = []
            for index, item in enumerate(n.value):
                item_loc = (*loc, index)
                source.positions[item_loc] = (item.start_mark.line + 1, item.start_mark.column + 1)
                items.append(walk(item, item_loc))
            return items
        return loader.construct_object(n, deep=True)

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
