"""A tool that fails during `scaffold generate` (copier, datamodel-code-generator, protoc, ruff) or
generated code that does not compile is a located error: no traceback, non-zero exit, nothing written."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import scaffold.render.service as render_module
from scaffold.cli import main
from scaffold.postprocess import models as models_module
from scaffold.postprocess.format import FormatFailed, format_tree
from scaffold.postprocess.protos import ProtoCompileError, StubVersionMismatch, check_stub_versions, compile_protos
from scaffold.postprocess.syntax import GeneratedCodeInvalid, check_python_sources
from scaffold.proto_files import Layout
from scaffold.render.templates import template_dir
from tests.generation import EXAMPLES, add_template_version

GUIDE = str(EXAMPLES / "guide.yaml")

TINY = """\
version: 1
name: tiny
messages:
  Ping:
    schema:
      type: object
      properties:
        other: {{$ref: "{ref}"}}
services:
  ping-service:
    operations:
      Ping:
        request: Ping
        response: Ping
        http: {{method: POST, path: /ping}}
externals:
  web:
    kind: client
interactions:
  - from: web
    to: ping-service
    use_case: user-facing
    operation: Ping
"""


def _generate(spec: str | Path, out: Path) -> Result:
    return CliRunner().invoke(main, ["generate", str(spec), "-o", str(out)])


def _assert_refused(result: Result, parent: Path, *expected: str) -> None:
    """Exit 2 with every expected text, no traceback, and nothing but the inputs left in ``parent``."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output
    assert "nothing was written" in result.output
    assert sorted(p.name for p in parent.iterdir()) == ["inputs"]


@pytest.mark.parametrize(
    ("ref", "detail"),
    [
        ("#/$defs/Nowhere", "Unresolved local $ref"),  # would silently become `Any`
        ("https://example.com/other.schema.json", "$ref"),  # would make several modules
    ],
)
def test_a_schema_datamodel_code_generator_rejects_is_reported_at_its_message(
    tmp_path: Path, ref: str, detail: str
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    spec = inputs / "tiny.yaml"
    spec.write_text(TINY.format(ref=ref), encoding="utf-8")
    result = _generate(spec, tmp_path / "out")
    _assert_refused(result, tmp_path, f"{spec}: messages.Ping: datamodel-code-generator", detail, "hint:")


def test_a_template_copier_cannot_render_is_reported_at_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "inputs" / "home"))
    broken = tmp_path / "inputs" / "templates" / "service"
    shutil.copytree(template_dir("service"), broken)
    readme = broken / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + "\n{% if service.name %}never closed\n", encoding="utf-8")
    add_template_version(broken, "99.0.0")
    monkeypatch.setattr(render_module, "template_version", lambda: "99.0.0")
    result = _generate(GUIDE, tmp_path / "out")
    _assert_refused(result, tmp_path, f"{GUIDE}: services.", "cannot render the template", "report it")


def test_generated_code_that_does_not_compile_is_refused_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "inputs").mkdir()
    monkeypatch.setattr(models_module, "models_source", lambda *args: "class Broken(:\n    pass\n")
    result = _generate(GUIDE, tmp_path / "out")
    _assert_refused(
        result, tmp_path, "analytics-service/src/analytics_service/generated/models.py:1:", "does not compile"
    )


def test_compiling_catches_what_parsing_alone_accepts(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "ok.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "pkg" / "outside.py").write_text("return 1\n", encoding="utf-8")  # parses, does not compile
    (tmp_path / "pkg" / "nul.py").write_bytes(b"x = 1\0\n")
    (tmp_path / "pkg" / "stub.pyi").write_text("def f(:\n", encoding="utf-8")
    with pytest.raises(GeneratedCodeInvalid) as raised:
        check_python_sources(tmp_path)
    assert [p.file for p in raised.value.problems] == ["pkg/nul.py", "pkg/outside.py", "pkg/stub.pyi"]
    assert raised.value.problems[1].line == 1
    assert "'return' outside function" in raised.value.problems[1].message


def test_ruff_failing_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "fine.py").write_text("import os\n", encoding="utf-8")
    (tmp_path / "broken.py").write_text("x = (\n", encoding="utf-8")
    with pytest.raises(FormatFailed) as raised:
        format_tree(tmp_path)
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == ("broken.py", 2)
    assert problem.message.startswith("ruff: ") and problem.hint


def test_protoc_errors_point_at_the_given_contract_or_at_scaffold(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    broken = 'syntax = "proto3";\npackage x.v1;\nmessage A {\n  int32 a = 1;\n  int32 b = 1;\n}\n'
    (contracts / "given.proto").write_text(broken, encoding="utf-8")
    rendered = broken.replace("x.v1", "y.v1")
    reported = {}
    for name, text in (("given.proto", broken), ("rendered.proto", rendered)):
        proto_dir = tmp_path / name.removesuffix(".proto")
        proto_dir.mkdir()
        (proto_dir / name).write_text(text, encoding="utf-8")
        with pytest.raises(ProtoCompileError) as raised:
            compile_protos(proto_dir, [name], Layout(), (contracts,))
        [reported[name]] = [p for p in raised.value.problems if p.line]
    assert reported["given.proto"].file == str(contracts / "given.proto")
    assert (reported["given.proto"].line, reported["given.proto"].column) == (5, 13)
    assert "fix the contract" in reported["given.proto"].hint
    assert reported["rendered.proto"].file == "rendered.proto (generated)"
    assert "bug in scaffold" in reported["rendered.proto"].hint


def test_stubs_that_need_more_than_the_project_allows_are_refused(tmp_path: Path) -> None:
    stub = textwrap.dedent(
        """\
        GRPC_GENERATED_VERSION = "99.0.0"
        _runtime_version.ValidateProtobufRuntimeVersion(_runtime_version.Domain.PUBLIC, 99, 1, 0, "", "a.proto")
        """
    )
    (tmp_path / "a_pb2_grpc.py").write_text(stub, encoding="utf-8")
    with pytest.raises(StubVersionMismatch) as raised:
        check_stub_versions(tmp_path)
    messages = [p.message for p in raised.value.problems]
    assert any("grpcio>=99.0.0" in m for m in messages) and any("protobuf>=99.1.0" in m for m in messages)
