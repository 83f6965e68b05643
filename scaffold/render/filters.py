"""Jinja filters that escape free text for the place it lands in a generated file.

Descriptions and reasons come from the spec and from imported contracts, which may come from
anyone: pasted raw, a `\"\"\"` would close a docstring and run the code after it on import, and
`<img onerror=...>` would run in a rendered README. Templates pass every such text through the
filter of its context (``docstring``, ``comment`` or ``md``); names need none, their shape is
checked when the spec is loaded.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import jinja2
from jinja2.ext import Extension

# Characters a reader cannot see or that reorder what they see (bidi overrides, "Trojan Source",
# CVE-2021-42574), and control characters: shown as escapes instead of written raw.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def _escape_invisible(char: str, keep: str) -> str:
    if char in keep or unicodedata.category(char) not in _INVISIBLE_CATEGORIES:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def docstring(text: Any) -> str:
    """``text`` inside a ``\"\"\"`` docstring: it reads the same and can never close the string.

    A backslash is doubled; a quote is escaped when another quote or the end of the text follows
    it, so no run of three quotes can form and the closing quotes stay the template's own.
    """
    value = str(text)
    out = []
    for i, char in enumerate(value):
        if char == "\\":
            out.append("\\\\")
        elif char == '"' and (i + 1 == len(value) or value[i + 1] == '"'):
            out.append('\\"')
        else:
            out.append(_escape_invisible(char, keep="\n\t"))
    return "".join(out)


def comment(text: Any) -> str:
    """``text`` on one ``#`` comment line: line breaks become spaces, invisible characters escapes."""
    line = _LINE_BREAKS.sub(" ", str(text))
    return "".join(_escape_invisible(char, keep="\t") for char in line)


# Markdown and HTML that could turn text into a link, an image, a tag or a new table cell.
_MARKDOWN_SPECIAL = {"\\": "\\\\", "[": "\\[", "]": "\\]", "|": "\\|", "<": "&lt;", ">": "&gt;", "&": "&amp;"}


def md(text: Any) -> str:
    """``text`` as inline Markdown on one line (a paragraph or a table cell): no HTML, links,
    images or cell breaks; backticks stay code spans."""
    line = _LINE_BREAKS.sub(" ", str(text))
    out = []
    for char in line:
        escaped = _escape_invisible(char, keep="")
        # The escape's own backslash would read as a Markdown escape: double it.
        out.append(_MARKDOWN_SPECIAL.get(char, escaped.replace("\\", "\\\\")))
    return "".join(out)


FILTERS = {"docstring": docstring, "comment": comment, "md": md}


class TextFilters(Extension):
    """Registers the filters; named in templates/service/copier.yml under ``_jinja_extensions``."""

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
