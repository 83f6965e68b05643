"""Functions a service's generated code calls that the user's handlers file lacks get a stub.

`handlers.py` is the user's: scaffold writes it once and never overwrites it. When the spec later gives
a service a new operation, webhook or consumed message, the generated layer calls a function the file does
not have; instead of a route that fails at run time while the code looks complete, scaffold appends that
function with the signature and docstring of a fresh render and a body that raises NotImplementedError
naming the operation. The service's generated test of that operation then fails until it is written.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stub:
    function: str
    operation: str  # what the spec calls it: an operation, a webhook or a consumed channel


def handler_operations(service: dict[str, Any]) -> dict[str, str]:
    """Function name in handlers.py -> what it handles, for one service slice."""
    found = {op["snake"]: f"operation {op['name']}" for op in service.get("operations", [])}
    found.update({hook["handler"]: f"webhook {hook['message']}" for hook in service.get("webhooks_in", [])})
    found.update(
        {link["handler"]: f"{link['pattern']} message {link['message']}" for link in service.get("consumes", [])}
    )
    return found


def add_stubs(current: str, fresh: str, service: dict[str, Any]) -> tuple[str, list[Stub]]:
    """``current`` (the user's handlers file) with a stub for every handler function of ``fresh`` (a fresh
    render for the same service) that it lacks, and the stubs added. ``current`` that does not parse is
    left alone: the user is in the middle of something."""
    try:
        ours, theirs = ast.parse(current), ast.parse(fresh)
    except SyntaxError:
        return current, []
    operations = handler_operations(service)
    defined = {node.name for node in ours.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    fresh_lines = fresh.splitlines()
    stubs: list[Stub] = []
    blocks: list[str] = []
    for node in theirs.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name in defined:
            continue
        if node.name not in operations:
            continue
        stub = Stub(node.name, operations[node.name])
        stubs.append(stub)
        blocks.append(_stub_source(node, fresh_lines, service["name"], stub))
    if not stubs:
        return current, []
    return _append(current, ours, theirs, blocks), stubs


def add_tests(current: str, fresh: str) -> tuple[str, list[str]]:
    """``current`` (the user's tests/test_handlers.py) with every top-level function of ``fresh`` (a fresh
    render of it: one test per operation through the generated layer, and their fixtures) that it lacks,
    and the names added. The test of a stubbed handler fails with its NotImplementedError."""
    try:
        ours, theirs = ast.parse(current), ast.parse(fresh)
    except SyntaxError:
        return current, []
    defined = {node.name for node in ours.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    lines = fresh.splitlines()
    added, blocks = [], []
    for node in theirs.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in defined:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            added.append(node.name)
            blocks.append("\n".join(lines[first - 1 : node.end_lineno]) + "\n")
    if not added:
        return current, []
    return _append(current, ours, theirs, blocks), added


def _append(current: str, ours: ast.Module, theirs: ast.Module, blocks: list[str]) -> str:
    """``current`` with the imports of ``theirs`` it lacks after its own, and ``blocks`` at its end."""
    lines = current.splitlines()
    imports = _missing_imports(ours, theirs)
    if imports:
        docstring = ours.body[:1] if ast.get_docstring(ours) is not None else []
        last = max(
            (n.end_lineno or n.lineno for n in ours.body if isinstance(n, ast.Import | ast.ImportFrom)),
            default=max((n.end_lineno or n.lineno for n in docstring), default=0),
        )
        lines[last:last] = imports
    text = "\n".join(lines).rstrip("\n") + "\n"
    return text + "".join(f"\n\n{block}" for block in blocks)


def _stub_source(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], service: str, stub: Stub) -> str:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    body = node.body
    has_docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    head_end = (body[0].end_lineno or body[0].lineno) if has_docstring else body[0].lineno - 1
    head = lines[first - 1 : head_end]
    message = f"{service}: {stub.operation} is not implemented yet; write {stub.function}() in handlers.py"
    head += ["    raise NotImplementedError(", f"        {json.dumps(message)}", "    )"]
    if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in ast.walk(node)):
        head.append("    yield  # an async generator, as the generated code calls it")
    return "\n".join(head) + "\n"


def _missing_imports(ours: ast.Module, theirs: ast.Module) -> list[str]:
    have = {ast.unparse(n) for n in ours.body if isinstance(n, ast.Import | ast.ImportFrom)}
    return [
        ast.unparse(n) for n in theirs.body if isinstance(n, ast.Import | ast.ImportFrom) and ast.unparse(n) not in have
    ]
