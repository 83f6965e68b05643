"""The floors of a generated project's gRPC dependencies, read from the tools that compile its stubs.

protoc's Python output refuses a protobuf runtime older than the protoc that wrote it
(`ValidateProtobufRuntimeVersion` in every `_pb2.py`), and the gRPC stubs refuse a grpcio older
than the grpcio-tools that wrote them (`GRPC_GENERATED_VERSION` in every `_pb2_grpc.py`). So the
floors are the installed grpcio-tools version and the protobuf floor grpcio-tools itself declares
(it bundles protoc and requires at least that protobuf runtime); `scaffold.postprocess.protos`
checks the compiled stubs against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version

from scaffold.errors import ScaffoldError


class ToolchainUnknown(ScaffoldError):
    """The installed grpcio-tools does not say which protobuf runtime its output needs."""


@dataclass(frozen=True)
class GrpcToolchain:
    grpcio: Version  # what GRPC_GENERATED_VERSION says: the grpcio-tools version
    protobuf: Version  # the oldest protobuf runtime the bundled protoc's output accepts

    def requirements(self) -> dict[str, str]:
        """Version specifiers for the generated pyproject.toml, keyed as the template reads them.

        The grpcio family is released in lockstep; protobuf only promises compatibility within a
        major version (https://protobuf.dev/support/cross-version-runtime-guarantee)."""
        grpc = f">={self.grpcio},<{self.grpcio.major + 1}"
        return {
            "grpcio": grpc,
            "grpcio_health_checking": grpc,
            "grpcio_reflection": grpc,
            "grpcio_tools": grpc,
            "protobuf": f">={self.protobuf},<{self.protobuf.major + 1}",
        }


@cache
def grpc_toolchain() -> GrpcToolchain:
    tools = metadata.version("grpcio-tools")
    floors = [
        Version(spec.version)
        for line in metadata.requires("grpcio-tools") or []
        if (requirement := Requirement(line)).name == "protobuf" and requirement.marker is None
        for spec in requirement.specifier
        if spec.operator in (">=", "==", "~=")
    ]
    if not floors:
        raise ToolchainUnknown(
            f"grpcio-tools {tools} declares no minimum protobuf version, so the protobuf floor of generated "
            "projects is unknown; reinstall scaffold with its pinned grpcio-tools: pip install --force-reinstall "
            "scaffold-services"
        )
    return GrpcToolchain(grpcio=Version(tools), protobuf=max(floors))
