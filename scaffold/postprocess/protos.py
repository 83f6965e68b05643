"""Write each service's .proto contracts and compile them with grpcio-tools.

protoc writes absolute imports (`import order_service_pb2`) that only work from the folder the
stubs are in; they are rewritten as relative imports so the stubs work inside the package.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2

from scaffold.errors import Problem, ScaffoldError
from scaffold.render.templates import template_dir

_LOCAL_IMPORT = re.compile(r"^import (\w+_pb2)( as \w+)?$", re.MULTILINE)
_FROM_LOCAL = re.compile(r"^from (\w+_pb2) import", re.MULTILINE)
_PROTO_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.MULTILINE)


class ProtoCompileError(ScaffoldError):
    """protoc rejected a contract: a bug in scaffold for generated contracts, a user error for given ones."""


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir("proto")),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def write_protos(contracts: list[dict[str, Any]], system: str, proto_dir: Path, spec_dir: Path) -> list[Path]:
    """Write every contract a service serves or calls into ``proto_dir``; return the files to compile.

    A given contract's `contract_path` is relative to ``spec_dir``, the folder of the spec."""
    template = _environment().get_template("service.proto.jinja")
    written: dict[str, Path] = {}
    for contract in contracts:
        name = contract["proto_file"]
        if name in written:
            continue
        target = proto_dir / name
        if contract.get("contract_path"):
            _copy_with_imports(spec_dir / contract["contract_path"], proto_dir)
        else:
            target.write_text(template.render(contract=contract, system=system), encoding="utf-8")
        written[name] = target
    return sorted(written.values())


def _copy_with_imports(source: Path, proto_dir: Path) -> None:
    """Copy a given .proto and the local files it imports, keeping their relative paths."""
    root = source.parent
    pending = [source]
    seen: set[Path] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        relative = current.relative_to(root) if current.is_relative_to(root) else Path(current.name)
        destination = proto_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(current, destination)
        for imported in _PROTO_IMPORT.findall(current.read_text(encoding="utf-8")):
            candidate = root / imported
            if candidate.is_file():
                pending.append(candidate)


def compile_protos(proto_dir: Path, files: list[Path]) -> None:
    """Compile with grpcio-tools into the same folder: messages, stubs and .pyi type hints."""
    if not files:
        return
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    all_protos = sorted(p.relative_to(proto_dir).as_posix() for p in proto_dir.rglob("*.proto"))
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{proto_dir}",
        f"-I{include}",
        f"--python_out={proto_dir}",
        f"--pyi_out={proto_dir}",
        f"--grpc_python_out={proto_dir}",
        *all_protos,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        problems = [Problem(file="protoc", message=line) for line in result.stderr.strip().splitlines()]
        raise ProtoCompileError("\n".join(p.render() for p in problems) or "protoc failed")
    for generated in sorted(proto_dir.rglob("*_pb2*.py*")):
        text = generated.read_text(encoding="utf-8")
        fixed = _LOCAL_IMPORT.sub(lambda m: f"from . import {m.group(1)}{m.group(2) or ''}", text)
        fixed = _FROM_LOCAL.sub(lambda m: f"from .{m.group(1)} import", fixed)
        if fixed != text:
            generated.write_text(fixed, encoding="utf-8")
