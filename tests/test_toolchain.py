"""The gRPC dependency floors of a generated project are the versions its compiled stubs check."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from scaffold.render.toolchain import grpc_toolchain
from tests.generation import generate_example


def test_the_floors_come_from_the_installed_grpcio_tools() -> None:
    toolchain = grpc_toolchain()
    assert toolchain.grpcio == Version(metadata.version("grpcio-tools"))
    assert Version(metadata.version("protobuf")) >= toolchain.protobuf


def test_a_generated_project_allows_nothing_its_stubs_refuse(tmp_path: Path) -> None:
    generate_example("guide", tmp_path / "out")
    service = tmp_path / "out" / "order-service"
    project = tomllib.loads((service / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(line) for line in project["dependencies"] + project["optional-dependencies"]["test"]]
    floors = {
        r.name: min(Version(s.version) for s in r.specifier if s.operator == ">=")
        for r in requirements
        if r.name in ("grpcio", "grpcio-health-checking", "grpcio-reflection", "grpcio-tools", "protobuf")
    }
    proto = service / "src" / "order_service" / "generated" / "proto"
    stub = (proto / "order_service_pb2_grpc.py").read_text(encoding="utf-8")
    messages = (proto / "order_service_pb2.py").read_text(encoding="utf-8")
    [grpc_needs] = re.findall(r'^GRPC_GENERATED_VERSION = "([^"]+)"', stub, re.MULTILINE)
    [gencode] = re.findall(r"ValidateProtobufRuntimeVersion\(\s*\S+,\s*(\d+),\s*(\d+),\s*(\d+),", messages)
    assert floors["grpcio"] == Version(grpc_needs)
    assert floors["protobuf"] == Version(".".join(gencode))
    # The grpcio family is released in lockstep: none of it may lag behind the stubs' grpcio.
    assert {floors[name] for name in ("grpcio-health-checking", "grpcio-reflection", "grpcio-tools")} == {
        Version(grpc_needs)
    }
