"""Import a .proto contract: compiled with protoc into a descriptor set, read into operations and messages."""

from __future__ import annotations

import copy
import importlib.util
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2 as pb
from google.protobuf.message import DecodeError

from scaffold.errors import Problem, SpecInvalid
from scaffold.names import MODEL_IMPORTS, kebab
from scaffold.proto_files import PROVIDED_PACKAGES, googleapis_files
from scaffold.spec.contracts import PASCAL, PASCAL_HINT, ImportedContract
from scaffold.spec.resolved import MessageDef, OperationDef

PROTOC_TIMEOUT_S = 120
_PROTOC_AT = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")
_PROTOC_FILE = re.compile(r"^(?P<file>[^:]+\.proto): (?P<msg>.+)$")
_PROTOC_HINT = "fix the .proto so that protoc accepts it"
_IMPORT_HINT = (
    "imports resolve from the .proto's folder, then `contracts.proto_paths`, then the bundled "
    "google/protobuf and googleapis (google/api, google/type, google/rpc) files"
)

_F = pb.FieldDescriptorProto
_INTEGERS = ("INT32", "INT64", "UINT32", "UINT64", "SINT32", "SINT64", "FIXED32", "FIXED64", "SFIXED32", "SFIXED64")
_SCALARS: dict[int, dict[str, Any]] = {
    **{getattr(_F, f"TYPE_{name}"): {"type": "integer"} for name in _INTEGERS},
    _F.TYPE_FLOAT: {"type": "number"},
    _F.TYPE_DOUBLE: {"type": "number"},
    _F.TYPE_BOOL: {"type": "boolean"},
    _F.TYPE_STRING: {"type": "string"},
    _F.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
# Well-known types as the Python types they stand for (scaffold's runtime converts them, see
# runtime/messages.py): Timestamp -> datetime, Duration -> timedelta, Struct -> dict, FieldMask ->
# its list of paths, Any -> its type URL and its payload (base64 in JSON), wrappers -> an optional scalar.
_ANY: dict[str, Any] = {
    "type": "object",
    "title": "ProtobufAny",
    "description": "A google.protobuf.Any: the packed message's type URL and its serialized bytes.",
    "properties": {
        "type_url": {"type": "string"},
        "value": {"type": "string", "contentEncoding": "base64"},
    },
    "required": ["type_url"],
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {"type": "string", "format": "duration"},
    ".google.protobuf.FieldMask": {"type": "array", "items": {"type": "string"}},
    ".google.protobuf.Empty": {"type": "object", "maxProperties": 0},
    ".google.protobuf.Struct": {"type": "object"},
    ".google.protobuf.Value": {},
    ".google.protobuf.ListValue": {"type": "array"},
    ".google.protobuf.Any": _ANY,
    ".google.protobuf.DoubleValue": {"type": ["number", "null"]},
    ".google.protobuf.FloatValue": {"type": ["number", "null"]},
    ".google.protobuf.Int64Value": {"type": ["integer", "null"]},
    ".google.protobuf.UInt64Value": {"type": ["integer", "null"]},
    ".google.protobuf.Int32Value": {"type": ["integer", "null"]},
    ".google.protobuf.UInt32Value": {"type": ["integer", "null"]},
    ".google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    ".google.protobuf.StringValue": {"type": ["string", "null"]},
    ".google.protobuf.BytesValue": {"type": ["string", "null"], "contentEncoding": "base64"},
}
_IDEMPOTENT_LEVELS = frozenset({pb.MethodOptions.IDEMPOTENT, pb.MethodOptions.NO_SIDE_EFFECTS})
# Paths into FileDescriptorProto used to find source positions and comments.
_PACKAGE, _MESSAGE_TYPE, _SERVICE, _METHOD = 2, 4, 6, 2


def import_proto(path: Path, display: str, includes: Sequence[Path] = ()) -> ImportedContract:
    """Compile ``path`` with protoc into a descriptor set and read its services and messages.

    Imports resolve as protoc resolves them: from the file's folder, then ``includes``, then the
    protobuf and googleapis files scaffold bundles; no file outside those roots is ever read."""
    roots = [path.parent, *includes]
    files = _compile_proto(path, display, roots)
    main = next((f for f in files.file if f.name == path.name), None)
    if main is None:  # protoc always emits the input file; guard against a surprising layout
        raise SpecInvalid([Problem(file=display, message="protoc produced no descriptor for the file")])
    index = _ProtoIndex(files)
    lines = _SourceInfo(main, display)
    if not main.service:
        raise SpecInvalid([lines.problem((), "the file defines no service", "add a `service` with `rpc` methods")])
    problems: list[Problem] = _confinement_problems(files, roots, display)
    problems += _reserved_package_problems(files, main, lines, display)
    operations = _proto_operations(main, lines, problems)
    message_roots = _proto_roots(main, lines, problems)
    if problems:
        raise SpecInvalid(problems)
    index.name_defs(message_roots.values())
    origin = f"proto:{display}"
    messages = {
        name: MessageDef(
            name=name,
            description=lines.comment(_root_path(main, full)),
            schema=index.schema(full),
            origin=origin,
        )
        for name, full in sorted(message_roots.items())
    }
    return ImportedContract(
        operations=operations,
        messages=messages,
        proto_package=main.package or None,
        proto_service=main.service[0].name,
        proto_descriptor=_without_source_info(files),
        proto_main=main.name,
        proto_types=dict(sorted(message_roots.items())),
    )


def _without_source_info(files: pb.FileDescriptorSet) -> bytes:
    """The descriptor set that generated code is compiled from: everything that defines the
    contract, no comments (so no contract text can reach generated source) and no positions."""
    stripped = pb.FileDescriptorSet()
    stripped.CopyFrom(files)
    for file in stripped.file:
        file.ClearField("source_code_info")
    return stripped.SerializeToString(deterministic=True)


def _compile_proto(path: Path, display: str, roots: Sequence[Path]) -> pb.FileDescriptorSet:
    if not path.is_file():
        what = "is a directory, not a .proto file" if path.is_dir() else "file not found"
        raise SpecInvalid(
            [Problem(file=display, message=what, hint="check contracts.proto; it is relative to the spec")]
        )
    with tempfile.TemporaryDirectory(prefix="scaffold-protoc-") as tmp:
        out = Path(tmp) / "descriptor.pb"
        command = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            *(f"--proto_path={root.resolve()}" for root in roots),
            *(f"--proto_path={root}" for root in bundled_includes()),
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            # Absolute: protoc maps it to its name inside the first root (the file's folder).
            str(path.resolve()),
        ]
        try:
            run = subprocess.run(
                command,
                check=False,
                cwd=path.parent,
                capture_output=True,
                text=True,
                timeout=PROTOC_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise SpecInvalid([Problem(file=display, message=f"protoc took longer than {PROTOC_TIMEOUT_S}s")]) from None
        if run.returncode != 0:
            raise SpecInvalid(_protoc_problems(run.stderr, run.returncode, path, display))
        try:
            return pb.FileDescriptorSet.FromString(out.read_bytes())
        except (OSError, DecodeError) as exc:
            raise SpecInvalid([Problem(file=display, message=f"cannot read protoc's output: {exc}")]) from None


def bundled_includes() -> list[str]:
    """Roots scaffold adds after the user's: protobuf's well-known types (shipped by grpcio-tools)
    and googleapis-common-protos' files (google/api, google/type, google/rpc...), whose Python
    modules generated projects import rather than compile."""
    found = []
    for package in ("grpc_tools", "google.api"):
        try:
            spec = importlib.util.find_spec(package)
        except ModuleNotFoundError:
            spec = None
        if spec is None or not spec.submodule_search_locations:
            raise SpecInvalid(
                [
                    Problem(
                        message=f"`{package}` is not installed; it is needed to read .proto contracts",
                        hint="pip install grpcio-tools googleapis-common-protos",
                    )
                ]
            )
        location = Path(next(iter(spec.submodule_search_locations)))
        found.append(str(location / "_proto" if package == "grpc_tools" else location.parent.parent))
    return found


def _confinement_problems(files: pb.FileDescriptorSet, roots: Sequence[Path], display: str) -> list[Problem]:
    """protoc refuses `..` in import paths, but a symlink inside a root can still point anywhere;
    and of the bundled roots only protobuf's and googleapis' own files may be used."""
    problems = []
    resolved_roots = [root.resolve() for root in roots]
    for file in files.file:
        for root in resolved_roots:
            candidate = root / file.name
            if candidate.exists():
                if not candidate.resolve().is_relative_to(root):
                    problems.append(
                        Problem(
                            file=display,
                            message=f"`{file.name}` resolves outside its include root (a symlink to "
                            f"{candidate.resolve()})",
                            hint="copy the file into the include root instead of linking it",
                        )
                    )
                break
        else:
            if not file.name.startswith("google/protobuf/") and file.name not in googleapis_files():
                problems.append(
                    Problem(
                        file=display,
                        message=f"`{file.name}` is not in the contract's folders but in an installed package",
                        hint="copy it next to the contract or into a folder of `contracts.proto_paths`",
                    )
                )
    return problems


def _reserved_package_problems(
    files: pb.FileDescriptorSet, main: pb.FileDescriptorProto, lines: _SourceInfo, display: str
) -> list[Problem]:
    """Generated servers serve health checking and reflection from grpcio-health-checking and
    grpcio-reflection; a second definition of their symbols crashes on import."""
    problems = []
    for file in files.file:
        provided = PROVIDED_PACKAGES.get(file.package)
        if provided is None:
            continue
        if file is main:
            problems.append(
                lines.problem(
                    (_PACKAGE,),
                    f"the contract defines `{file.package}`, which every generated server already serves",
                    "implement your own service in its own package; health checking and reflection are built in",
                )
            )
            continue
        defined = (
            {m.name for m in file.message_type} | {s.name for s in file.service} | {e.name for e in file.enum_type}
        )
        extra = sorted(defined - provided.symbols)
        if extra:
            problems.append(
                Problem(
                    file=display,
                    message=f"`{file.name}` adds {', '.join(extra)} to `{file.package}`, which generated "
                    f"services load from {provided.distribution}",
                    hint=f"import the standard {provided.name} instead of a modified copy",
                )
            )
    return problems


def _protoc_problems(stderr: str, code: int, path: Path, display: str) -> list[Problem]:
    def shown(file: str) -> str:
        file = file.removeprefix("./")
        if file in (path.name, str(path.resolve())):
            return display
        return (Path(display).parent / file).as_posix()

    problems = []
    for raw in stderr.splitlines():
        text = raw.strip()
        if not text or "warning:" in text:
            continue
        at = _PROTOC_AT.match(text)
        only_file = _PROTOC_FILE.match(text)
        if at:
            msg = at["msg"]
            hint = _IMPORT_HINT if "Import" in msg and "not found" in msg else _PROTOC_HINT
            problems.append(
                Problem(
                    file=shown(at["file"]),
                    line=int(at["line"]),
                    column=int(at["col"]),
                    message=f"protoc: {msg}",
                    hint=hint,
                )
            )
        elif only_file:
            problems.append(
                Problem(file=shown(only_file["file"]), message=f"protoc: {only_file['msg']}", hint=_IMPORT_HINT)
            )
        else:
            problems.append(Problem(file=display, message=f"protoc: {text}", hint=_PROTOC_HINT))
    return problems or [Problem(file=display, message=f"protoc failed (exit code {code})", hint=_PROTOC_HINT)]


class _SourceInfo:
    """Positions and comments of one file, keyed by descriptor path."""

    def __init__(self, file: pb.FileDescriptorProto, display: str) -> None:
        self.display = display
        self.locations = {tuple(loc.path): loc for loc in file.source_code_info.location}

    def where(self, path: tuple[int, ...]) -> tuple[int, int]:
        loc = self.locations.get(path)
        return (loc.span[0] + 1, loc.span[1] + 1) if loc is not None and loc.span else (0, 0)

    def comment(self, path: tuple[int, ...] | None) -> str:
        loc = self.locations.get(path) if path is not None else None
        return " ".join(loc.leading_comments.split()) if loc is not None else ""

    def problem(self, path: tuple[int, ...], message: str, hint: str = "", field: str = "") -> Problem:
        line, column = self.where(path)
        return Problem(file=self.display, line=line, column=column, field=field, message=message, hint=hint)


def _proto_operations(
    main: pb.FileDescriptorProto, lines: _SourceInfo, problems: list[Problem]
) -> dict[str, OperationDef]:
    operations: dict[str, OperationDef] = {}
    for s_index, service in enumerate(main.service):
        for m_index, method in enumerate(service.method):
            at = (_SERVICE, s_index, _METHOD, m_index)
            field = f"{service.name}.{method.name}"
            if not PASCAL.match(method.name):
                problems.append(lines.problem(at, f"rpc name `{method.name}` is not PascalCase", PASCAL_HINT, field))
            elif method.name in operations:
                problems.append(
                    lines.problem(
                        at,
                        f"rpc `{method.name}` is defined by two services",
                        "operation names must be unique across the file's services",
                        field,
                    )
                )
            operations[method.name] = _proto_operation(service.name, method, lines.comment(at))
    return operations


def _proto_operation(service: str, method: pb.MethodDescriptorProto, description: str) -> OperationDef:
    kind = {(False, False): "none", (False, True): "server", (True, False): "client", (True, True): "bidi"}
    return OperationDef(
        name=method.name,
        description=description,
        request=_short(method.input_type),
        response=_short(method.output_type),
        idempotent=method.options.idempotency_level in _IDEMPOTENT_LEVELS,
        streaming=kind[(method.client_streaming, method.server_streaming)],
        http_method="POST",
        http_path="/" + kebab(method.name),
        transports=frozenset({"grpc"}),
        grpc_service=service,
    )


def _proto_roots(main: pb.FileDescriptorProto, lines: _SourceInfo, problems: list[Problem]) -> dict[str, str]:
    """Messages that become MessageDefs: the file's top-level ones plus those its rpcs use."""
    prefix = f".{main.package}" if main.package else ""
    found: dict[str, tuple[str, tuple[int, ...]]] = {}  # short name -> (full name, where)
    candidates: list[tuple[str, tuple[int, ...]]] = [
        (f"{prefix}.{m.name}", (_MESSAGE_TYPE, i)) for i, m in enumerate(main.message_type)
    ]
    for s_index, service in enumerate(main.service):
        for m_index, method in enumerate(service.method):
            rpc = (_SERVICE, s_index, _METHOD, m_index)
            candidates += [(method.input_type, rpc), (method.output_type, rpc)]
    for full, at in candidates:
        short = _short(full)
        if short in found and found[short][0] != full:
            problems.append(
                lines.problem(
                    at,
                    f"two messages are named `{short}` ({found[short][0][1:]}, {full[1:]})",
                    "rename one; imported message names must be unique",
                )
            )
            continue
        if short not in found and not PASCAL.match(short):
            problems.append(lines.problem(at, f"message name `{short}` is not PascalCase", PASCAL_HINT))
        found.setdefault(short, (full, at))
    return {short: full for short, (full, _) in found.items()}


def _root_path(main: pb.FileDescriptorProto, full: str) -> tuple[int, ...] | None:
    prefix = f".{main.package}" if main.package else ""
    for i, message in enumerate(main.message_type):
        if f"{prefix}.{message.name}" == full:
            return (_MESSAGE_TYPE, i)
    return None


def _json_name(field: pb.FieldDescriptorProto) -> str:
    """protoc fills json_name; the lowerCamelCase rule is protobuf's when it does not."""
    if field.HasField("json_name"):
        return field.json_name
    head, *rest = field.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _short(full: str) -> str:
    """A message's name in the spec: its own, unless the models module imports that name (Google's
    Firestore admin API has a message `Field`, pydantic's `Field` is imported): then `FieldMessage`."""
    short = full.rsplit(".", 1)[-1]
    return f"{short}Message" if short in MODEL_IMPORTS else short


class _ProtoIndex:
    """Every message and enum of the compiled files, by fully qualified name (".pkg.Outer.Inner")."""

    def __init__(self, files: pb.FileDescriptorSet) -> None:
        self.messages: dict[str, pb.DescriptorProto] = {}
        self.enums: dict[str, pb.EnumDescriptorProto] = {}
        self.local: dict[str, str] = {}  # full name -> name inside its package ("Outer.Inner")
        self.def_names: dict[str, str] = {}
        for file in files.file:
            self._add(f".{file.package}" if file.package else "", "", file.message_type, file.enum_type)

    def _add(
        self,
        prefix: str,
        local: str,
        messages: Iterable[pb.DescriptorProto],
        enums: Iterable[pb.EnumDescriptorProto],
    ) -> None:
        for enum in enums:
            self.enums[f"{prefix}.{enum.name}"] = enum
        for message in messages:
            full, inner = f"{prefix}.{message.name}", f"{local}{message.name}"
            self.messages[full] = message
            self.local[full] = inner
            self._add(full, f"{inner}.", message.nested_type, message.enum_type)

    def name_defs(self, roots: Iterable[str]) -> None:
        """Pick `$defs` keys: the short name unless two reachable messages share it."""
        reachable = self._reachable(roots)
        shorts = Counter(_short(f) for f in reachable)
        locals_ = Counter(self.local[f] for f in reachable)
        for full in reachable:
            if shorts[_short(full)] == 1:
                self.def_names[full] = _short(full)
            elif locals_[self.local[full]] == 1:
                self.def_names[full] = self.local[full]
            else:
                self.def_names[full] = full[1:]

    def _reachable(self, roots: Iterable[str]) -> list[str]:
        seen: set[str] = set()
        pending = list(roots)
        while pending:
            full = pending.pop()
            if full not in seen:
                seen.add(full)
                pending += self._refs(self.messages[full])
        return sorted(seen)

    def _refs(self, message: pb.DescriptorProto) -> list[str]:
        """Messages a message's fields point at (through map values; well-known types excluded)."""
        out = []
        for field in message.field:
            value = self._map_value(field)
            target = field if value is None else value
            if target.type in (_F.TYPE_MESSAGE, _F.TYPE_GROUP) and target.type_name not in _WELL_KNOWN:
                out.append(target.type_name)
        return out

    def _map_value(self, field: pb.FieldDescriptorProto) -> pb.FieldDescriptorProto | None:
        entry = self.messages.get(field.type_name) if field.type == _F.TYPE_MESSAGE else None
        if entry is not None and entry.options.map_entry and field.label == _F.LABEL_REPEATED:
            return entry.field[1]
        return None

    def schema(self, full: str) -> dict[str, Any]:
        """A self-contained JSON Schema: referenced messages go into `$defs`, recursively."""
        schema = self._object(self.messages[full])
        defs: dict[str, dict[str, Any]] = {}
        pending = self._refs(self.messages[full])
        while pending:
            ref = pending.pop(0)
            if self.def_names[ref] not in defs:
                defs[self.def_names[ref]] = self._object(self.messages[ref])
                pending += self._refs(self.messages[ref])
        if defs:
            schema["$defs"] = dict(sorted(defs.items()))
        return schema

    def _object(self, message: pb.DescriptorProto) -> dict[str, Any]:
        # Properties are the fields' JSON names (protobuf's JSON mapping, `page_size` -> `pageSize`):
        # the one key the runtime converts by, in both directions.
        properties = {_json_name(field): self._field(field) for field in message.field}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [_json_name(field) for field in message.field if field.label == _F.LABEL_REQUIRED]
        if required:  # proto2 only; proto3 fields are all optional on the wire
            schema["required"] = required
        return schema

    def _field(self, field: pb.FieldDescriptorProto) -> dict[str, Any]:
        value = self._map_value(field)
        if value is not None:
            return {"type": "object", "additionalProperties": self._single(value)}
        if field.label == _F.LABEL_REPEATED:
            return {"type": "array", "items": self._single(field)}
        return self._single(field)

    def _single(self, field: pb.FieldDescriptorProto) -> dict[str, Any]:
        if field.type in (_F.TYPE_MESSAGE, _F.TYPE_GROUP):
            if field.type_name in _WELL_KNOWN:
                return copy.deepcopy(_WELL_KNOWN[field.type_name])
            return {"$ref": f"#/$defs/{self.def_names[field.type_name]}"}
        if field.type == _F.TYPE_ENUM:
            return {"type": "string", "enum": [v.name for v in self.enums[field.type_name].value]}
        return copy.deepcopy(_SCALARS[field.type])
