"""The .proto files of one generated service and the Python modules they become.

Imported contracts are compiled from the descriptor set protoc produced when the spec was loaded
(never from the text of the files again), so only what protoc resolved is compiled. Files that a
Python distribution already ships are imported from it instead of being compiled a second time
(two definitions of one symbol crash the protobuf descriptor pool on import):

- `google/protobuf/*.proto`: the protobuf runtime;
- the files of googleapis-common-protos (`google/api/annotations.proto`, `google/type/money.proto`...);
- `grpc.health.v1` and `grpc.reflection.v1alpha`, which every generated server serves already.

Every other file gets a module name that is a Python identifier, unique in the service: two
contracts' `orders.proto` from different folders stay two modules, while one file that several
contracts import (same name, same content) stays one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from google.protobuf import descriptor_pb2 as pb

from scaffold.errors import ScaffoldError

GOOGLEAPIS = "googleapis-common-protos"


@dataclass(frozen=True)
class Provided:
    name: str  # the file's name where the distribution registers it
    distribution: str
    symbols: frozenset[str]  # top-level messages, enums and services it defines


PROVIDED_PACKAGES: dict[str, Provided] = {
    "grpc.health.v1": Provided(
        "grpc_health/v1/health.proto",
        "grpcio-health-checking",
        frozenset({"HealthCheckRequest", "HealthCheckResponse", "HealthListRequest", "HealthListResponse", "Health"}),
    ),
    "grpc.reflection.v1alpha": Provided(
        "grpc_reflection/v1alpha/reflection.proto",
        "grpcio-reflection",
        frozenset(
            {
                "ServerReflection",
                "ServerReflectionRequest",
                "ExtensionRequest",
                "ServerReflectionResponse",
                "FileDescriptorResponse",
                "ExtensionNumberResponse",
                "ListServiceResponse",
                "ServiceResponse",
                "ErrorResponse",
            }
        ),
    ),
}


class ProtoLayoutError(ScaffoldError):
    """Two contracts of one service cannot be loaded into one process."""


@functools.cache
def googleapis_files() -> frozenset[str]:
    """The .proto files googleapis-common-protos ships (and so registers under these names)."""
    try:
        files = importlib.metadata.files(GOOGLEAPIS) or []
    except importlib.metadata.PackageNotFoundError:
        return frozenset()
    return frozenset(f.as_posix() for f in files if f.suffix == ".proto" and f.parts[0] == "google")


def requirement(distribution: str) -> str:
    """A requirement on ``distribution`` from the version whose files were compiled against."""
    version = importlib.metadata.version(distribution)
    major = int(version.split(".")[0])
    return f"{distribution}>={version},<{major + 1}"


@dataclass(frozen=True)
class PyModule:
    package: str | None  # None: the service's own `generated/proto` package
    name: str  # "orders_pb2"
    alias: str  # the name generated code imports it as
    # googleapis-common-protos ships .pyi stubs without a py.typed marker: mypy reads them only
    # when told to (`follow_untyped_imports`).
    untyped: bool = False

    def import_from(self, proto_package: str) -> str:
        """The `from X import Y` line, with ``proto_package`` for the service's own modules."""
        source = proto_package if self.package is None else self.package
        alias = f" as {self.alias}" if self.alias != self.name else ""
        return f"from {source} import {self.name}{alias}"


@dataclass
class Layout:
    files: list[pb.FileDescriptorProto] = field(default_factory=list)  # to compile, renamed
    shipped: list[pb.FileDescriptorProto] = field(default_factory=list)  # imported from distributions
    modules: dict[str, PyModule] = field(default_factory=dict)  # by file name (after renaming)
    types: dict[str, tuple[PyModule, str]] = field(default_factory=dict)  # ".pkg.Msg" -> (module, "Msg")
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)  # per contract: its file names -> ours
    distributions: set[str] = field(default_factory=set)

    def descriptor_set(self) -> bytes:
        """Every file, for protoc's --descriptor_set_in (it needs the imports of what it compiles)."""
        return pb.FileDescriptorSet(file=[*self.shipped, *self.files]).SerializeToString(deterministic=True)


def _module_of(name: str) -> tuple[str, str]:
    """protoc's Python module for a file name: `google/api/http.proto` -> (`google.api`, `http_pb2`)."""
    dotted = name.removesuffix(".proto").replace("-", "_").replace("/", ".")
    package, _, module = dotted.rpartition(".")
    return package, f"{module}_pb2"


def slug(name: str) -> str:
    """A lower-case ASCII identifier from a file name: `v2/Orders.Service-été.proto` -> `v2_orders_service_ete`."""
    stem = unicodedata.normalize("NFKD", name.removesuffix(".proto")).encode("ascii", "ignore").decode()
    text = re.sub(r"[^0-9a-z]+", "_", stem.lower()).strip("_") or "contract"
    return f"proto_{text}" if text[0].isdigit() else text


def _provider(file: pb.FileDescriptorProto, mains: set[str]) -> tuple[str, str] | None:
    """(name the file is registered under, distribution) when a distribution ships the file."""
    if file.name in mains:
        return None
    if file.name.startswith("google/protobuf/"):
        return file.name, "protobuf"
    if file.name in googleapis_files():
        return file.name, GOOGLEAPIS
    provided = PROVIDED_PACKAGES.get(file.package)
    if provided is not None:
        return provided.name, provided.distribution
    return None


def _digests(files: dict[str, pb.FileDescriptorProto]) -> dict[str, str]:
    """Identity of each file: its own content and, recursively, that of the files it imports."""
    out: dict[str, str] = {}

    def digest(name: str) -> str:
        if name not in out:
            file = files[name]
            h = hashlib.sha256(file.SerializeToString(deterministic=True))
            for dep in file.dependency:
                h.update(digest(dep).encode())
            out[name] = h.hexdigest()
        return out[name]

    for name in files:
        digest(name)
    return out


def layout(contracts: Mapping[str, tuple[bytes, str]], reserved: Iterable[str] = ()) -> Layout:
    """Lay out the files of ``contracts`` for one service: by owner, a serialized FileDescriptorSet
    and the name of its main file (always compiled: its service is implemented or called);
    ``reserved`` are module names already taken (the service's generated contracts)."""
    result = Layout()
    owners = sorted(contracts)
    parsed = [{f.name: f for f in pb.FileDescriptorSet.FromString(contracts[o][0]).file} for o in owners]
    mains = {contracts[o][1] for o in owners}
    digests = [_digests(files) for files in parsed]
    # Distinct local files by identity, and the slug each would like.
    local: dict[str, tuple[str, pb.FileDescriptorProto]] = {}
    main_of: dict[str, str] = {}  # identity of a main file -> its owner
    for owner, files, ids in zip(owners, parsed, digests, strict=True):
        for name, file in files.items():
            if _provider(file, mains) is None:
                local.setdefault(ids[name], (slug(name), file))
        main_of.setdefault(ids[contracts[owner][1]], owner)
    wanted: dict[str, set[str]] = {}
    for identity, (wish, _) in local.items():
        wanted.setdefault(wish, set()).add(identity)
    taken = set(reserved)
    chosen: dict[str, str] = {}  # identity -> module stem
    for identity in sorted(local, key=lambda i: (local[i][0], i)):
        wish = local[identity][0]
        stem = wish
        if len(wanted[wish]) > 1 or wish in taken:
            # Named after the service whose contract it is, else after its content.
            stem = f"{slug(main_of[identity])}_{wish}" if identity in main_of else f"{wish}_{identity[:8]}"
            if stem in taken:
                stem = f"{wish}_{identity[:8]}"
        taken.add(stem)
        chosen[identity] = stem

    emitted: set[str] = set()
    for owner, files, ids in zip(owners, parsed, digests, strict=True):
        renames: dict[str, str] = {}
        for name, file in files.items():
            provider = _provider(file, mains)
            if provider is None:
                renames[name] = f"{chosen[ids[name]]}.proto"
                module = PyModule(None, f"{chosen[ids[name]]}_pb2", f"{chosen[ids[name]]}_pb2")
            else:
                renames[name] = provider[0]
                if provider[1] != "protobuf":
                    result.distributions.add(provider[1])
                package, module_name = _module_of(provider[0])
                alias = f"{package.replace('.', '_')}_{module_name}"
                module = PyModule(package, module_name, alias, untyped=provider[1] == GOOGLEAPIS)
            result.modules[renames[name]] = module
            _index_types(file, module, result.types)
        result.renamed[owner] = renames
        for name, file in files.items():
            if renames[name] in emitted:
                continue
            emitted.add(renames[name])
            copy = pb.FileDescriptorProto()
            copy.CopyFrom(file)
            copy.name = renames[name]
            copy.ClearField("dependency")
            copy.dependency.extend(renames[d] for d in file.dependency)
            (result.files if _provider(file, mains) is None else result.shipped).append(copy)
    result.files.sort(key=lambda f: f.name)
    result.shipped.sort(key=lambda f: f.name)
    _check_unique_symbols(result.files)
    return result


def _index_types(file: pb.FileDescriptorProto, module: PyModule, types: dict[str, tuple[PyModule, str]]) -> None:
    prefix = f".{file.package}" if file.package else ""

    def walk(messages: Iterable[pb.DescriptorProto], full: str, attr: str) -> None:
        for message in messages:
            types[f"{full}.{message.name}"] = (module, f"{attr}{message.name}")
            walk(message.nested_type, f"{full}.{message.name}", f"{attr}{message.name}.")

    walk(file.message_type, prefix, "")


def _check_unique_symbols(files: list[pb.FileDescriptorProto]) -> None:
    """Two different files defining one symbol (two versions of one contract) cannot both load."""
    owner: dict[str, str] = {}
    for file in files:
        prefix = f"{file.package}." if file.package else ""
        for symbol in [
            *(m.name for m in file.message_type),
            *(e.name for e in file.enum_type),
            *(s.name for s in file.service),
        ]:
            full = prefix + symbol
            if full in owner:
                raise ProtoLayoutError(
                    f"`{full}` is defined by two different contract files ({owner[full]} and {file.name}) "
                    "that one service uses: protobuf cannot load both into one process; give one of "
                    "them its own package, or make both import one shared file"
                )
            owner[full] = file.name
