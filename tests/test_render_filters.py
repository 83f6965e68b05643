"""The escaping filters: whatever the text, it lands as text and never as code or markup."""

from __future__ import annotations

import ast
import io
import tokenize

from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold.render.filters import comment, docstring, md

ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=60) | st.sampled_from(
    ['"""', '""""', 'x"""', "\\", '"\\', '\\"""', "\u202e", "\x00", "\r\n", '"""\nimport os\n#']
)
FAST = settings(max_examples=300, deadline=None)


@FAST
@given(st.text(alphabet="ab :\n", max_size=5), ANY_TEXT)
def test_a_docstring_holds_the_text_exactly(template_text: str, text: str) -> None:
    source = f'"""{template_text}{docstring(text)}"""\n'
    tree = ast.parse(source)
    assert len(tree.body) == 1
    node = tree.body[0]
    assert isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    assert node.value.value == template_text + text


@FAST
@given(ANY_TEXT)
def test_a_comment_stays_one_comment(text: str) -> None:
    source = f"# {comment(text)}\nx = 1\n"
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]
    assert len(tokens) == 1
    assert ast.parse(source).body[0].lineno == 2


@FAST
@given(ANY_TEXT)
def test_markdown_text_has_no_markup_that_escapes_its_line(text: str) -> None:
    line = md(text)
    assert "\n" not in line and "\r" not in line
    assert "<" not in line and ">" not in line
    # Every `|`, `[` and `]` is escaped: an odd number of backslashes precedes it.
    for i, char in enumerate(line):
        if char in "|[]":
            run = len(line[:i]) - len(line[:i].rstrip("\\"))
            assert run % 2 == 1, line


def test_invisible_characters_become_visible_escapes() -> None:
    assert docstring("a\u202eb\x1bc") == "a\\u202eb\\x1bc"
    assert comment("a\u2066b\nc") == "a\\u2066b c"
    assert md("<img src=x onerror=alert(1)> [a](javascript:x) | \u202e") == (
        "&lt;img src=x onerror=alert(1)&gt; \\[a\\](javascript:x) \\| \\\\u202e"
    )
    # Plain prose and the code spans of the plan's reasons are left as they are.
    assert md("a user waits on it and `web` calls from the edge") == "a user waits on it and `web` calls from the edge"
    assert docstring('say "hi" to "them"') == 'say "hi" to "them\\"'
