"""Write each service's .proto contracts and compile them with grpcio-tools.

protoc writes absolute imports (`import order_service_pb2`) that only work from the folder the
stubs are in; they are rewritten as relative imports so the stubs work inside the package.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
from packaging.version import Version

from scaffold.errors import GenerationFailed, Problem
from scaffold.proto_files import Layout
from scaffold.render.templates import template_dir
from scaffold.render.toolchain import grpc_toolchain

_LOCAL_IMPORT = re.compile(r"^import (\w+_pb2)( as \w+)?$", re.MULTILINE)
_FROM_LOCAL = re.compile(r"^from (\w+_pb2) import", re.MULTILINE)
# protoc: `file.proto:12:5: message` or `file.proto: message`.
_PROTOC_LINE = re.compile(r"^(?P<file>[^:\s][^:]*\.proto):(?:(?P<line>\d+):(?P<column>\d+):)?\s*(?P<what>.+)$")
# What the compiled stubs check at import time, with the versions that wrote them.
_GRPC_GENERATED = re.compile(r'^GRPC_GENERATED_VERSION = "([^"]+)"', re.MULTILINE)
_PROTOBUF_GENCODE = re.compile(
    r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.\w+,\s*(\d+),\s*(\d+),\s*(\d+),"
)
_RENDERED_HINT = "scaffold wrote this .proto from the spec, so this is a bug in scaffold; report it with the spec"
_GIVEN_HINT = "fix the contract; protoc (grpcio-tools) checks it as `python -m grpc_tools.protoc` would"


class ProtoCompileError(GenerationFailed):
    """protoc rejected a contract: a bug in scaffold for generated contracts, a user error for given ones."""


class StubVersionMismatch(GenerationFailed):
    """The compiled stubs need newer grpcio/protobuf than the generated project allows."""


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir("proto")),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def write_protos(contracts: list[dict[str, Any]], system: str, proto_dir: Path) -> list[str]:
    """Write the contracts scaffold generates from the spec into ``proto_dir``; return their names."""
    template = _environment().get_template("service.proto.jinja")
    written: set[str] = set()
    for contract in contracts:
        if contract["contract_owner"] is None and contract["proto_file"] not in written:
            (proto_dir / contract["proto_file"]).write_text(
                template.render(contract=contract, system=system), encoding="utf-8"
            )
            written.add(contract["proto_file"])
    return sorted(written)


def compile_protos(
    proto_dir: Path, generated: list[str], imported: Layout, contract_roots: tuple[Path, ...] = ()
) -> None:
    """Compile with grpcio-tools into ``proto_dir``: messages, stubs and .pyi type hints; the
    contracts scaffold wrote from their files, imported ones from their descriptor set."""
    if not generated and not imported.files:
        return
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory(prefix="scaffold-protos-") as tmp:
        descriptors = Path(tmp) / "imported.pb"
        descriptors.write_bytes(imported.descriptor_set())
        runs = (
            (generated, [f"-I{proto_dir}", f"-I{include}"]),
            ([f.name for f in imported.files], [f"--descriptor_set_in={descriptors}"]),
        )
        for names, source in runs:
            if names:
                _protoc(proto_dir, [*source, *names], contract_roots)
    for path in sorted(proto_dir.rglob("*_pb2*.py*")):
        text = path.read_text(encoding="utf-8")
        fixed = _LOCAL_IMPORT.sub(lambda m: f"from . import {m.group(1)}{m.group(2) or ''}", text)
        fixed = _FROM_LOCAL.sub(lambda m: f"from .{m.group(1)} import", fixed)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")
        if path.suffix == ".py":
            _check_stub(path, fixed)
    check_stub_versions(proto_dir)


def _protoc(proto_dir: Path, arguments: list[str], contract_roots: tuple[Path, ...]) -> None:
    """grpcio-tools' protoc, in this process, as `python -m grpc_tools.protoc` runs it (which adds its
    own include folder last); what protoc prints is caught from the standard streams' descriptors."""
    import grpc_tools
    from grpc_tools import protoc

    command = [
        "grpc_tools.protoc",
        f"--python_out={proto_dir}",
        f"--pyi_out={proto_dir}",
        f"--grpc_python_out={proto_dir}",
        *arguments,
        f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
    ]
    try:
        with _captured_output() as output:
            code = protoc.main(command)
            printed = output.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ProtoCompileError([Problem(file="protoc", message=f"cannot run grpc_tools.protoc: {exc}")]) from exc
    if code != 0:
        lines = [line for line in printed.splitlines() if line.strip()]
        problems = [_protoc_problem(line, proto_dir, contract_roots) for line in lines]
        raise ProtoCompileError(problems or [Problem(file="protoc", message=f"exit {code}")])


@contextmanager
def _captured_output() -> Iterator[Path]:
    """File descriptors 1 and 2 into a file while the block runs (protoc writes to them from C++)."""
    with tempfile.TemporaryDirectory(prefix="scaffold-protoc-") as tmp:
        target = Path(tmp) / "output"
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            with target.open("wb") as stream:
                os.dup2(stream.fileno(), 1)
                os.dup2(stream.fileno(), 2)
                try:
                    yield target
                finally:
                    os.dup2(saved[0], 1)
                    os.dup2(saved[1], 2)
        finally:
            for descriptor in saved:
                os.close(descriptor)


def _protoc_problem(line: str, proto_dir: Path, contract_roots: tuple[Path, ...]) -> Problem:
    located = _PROTOC_LINE.match(line.strip())
    if not located:
        return Problem(file="protoc", message=line.strip(), hint=_RENDERED_HINT)
    name = located["file"]
    if Path(name).is_absolute() and Path(name).is_relative_to(proto_dir):  # protoc prefixes its include folder
        name = Path(name).relative_to(proto_dir).as_posix()
    given = next((root / name for root in contract_roots if (root / name).is_file()), None)
    return Problem(
        file=str(given) if given else f"{name} (generated)",
        line=int(located["line"] or 0),
        column=int(located["column"] or 0),
        message=f"protoc: {located['what']}",
        hint=_GIVEN_HINT if given else _RENDERED_HINT,
    )


def check_stub_versions(proto_dir: Path) -> None:
    """The stubs refuse a runtime older than the tools that wrote them: check that the generated
    project's floors (:mod:`scaffold.render.toolchain`) are not lower than what they check."""
    toolchain = grpc_toolchain()
    problems = []
    for path in sorted(proto_dir.rglob("*_pb2*.py")):
        text = path.read_text(encoding="utf-8")
        checks = [(Version(found), toolchain.grpcio, "grpcio") for found in _GRPC_GENERATED.findall(text)]
        checks += [
            (Version(".".join(parts)), toolchain.protobuf, "protobuf") for parts in _PROTOBUF_GENCODE.findall(text)
        ]
        for needed, floor, package in checks:
            if needed > floor:
                problems.append(
                    Problem(
                        file=f"{path.relative_to(proto_dir).as_posix()} (generated)",
                        message=f"the stubs need {package}>={needed}; the generated project allows {package}>={floor}",
                        hint="the installed grpcio-tools declares less than its output needs; reinstall scaffold "
                        "with its pinned grpcio-tools (pip install --force-reinstall scaffold-services)",
                    )
                )
    if problems:
        raise StubVersionMismatch(problems)


def _check_stub(path: Path, source: str) -> None:
    """protoc's modules hold imports, assignments, classes, functions and guards, nothing that
    runs on import beyond registering descriptors: refuse anything else."""
    try:
        tree = ast.parse(source, filename=path.name)
    except SyntaxError as exc:
        raise ProtoCompileError(
            [Problem(file=path.name, message=f"protoc wrote code that does not parse: {exc}")]
        ) from None
    allowed = (
        ast.Import,
        ast.ImportFrom,
        ast.Assign,
        ast.AnnAssign,
        ast.ClassDef,
        ast.FunctionDef,
        ast.If,
        ast.Try,
        ast.Expr,
    )
    for node in tree.body:
        if not isinstance(node, allowed) or (isinstance(node, ast.Expr) and not _harmless(node, tree)):
            raise ProtoCompileError([Problem(file=path.name, line=node.lineno, message="protoc wrote unexpected code")])
        if isinstance(node, ast.ClassDef):
            for inner in node.body:
                if isinstance(inner, ast.Expr) and not isinstance(inner.value, ast.Constant):
                    raise ProtoCompileError(
                        [Problem(file=path.name, line=inner.lineno, message="protoc wrote unexpected code")]
                    )
                if not isinstance(inner, (ast.Expr, ast.FunctionDef, ast.Assign, ast.Pass)):
                    raise ProtoCompileError(
                        [Problem(file=path.name, line=inner.lineno, message="protoc wrote unexpected code")]
                    )


def _harmless(node: ast.Expr, tree: ast.Module) -> bool:
    """A docstring, or one of the builder calls protoc's _pb2 modules make."""
    if isinstance(node.value, ast.Constant):
        return True
    call = node.value
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id in ("_builder", "_runtime_version")
    )
