"""The OpenAPI importer on real public documents (tests/fixtures/openapi-public)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from scaffold import names
from scaffold.generate import generate
from scaffold.plan.engine import build_plan
from scaffold.spec.contracts import import_openapi
from scaffold.spec.load import load_spec
from tests.generation import run_tool
from tests.json_refs import refs_in
from tests.processes import Service, free_port, wait_ready

PUBLIC = Path(__file__).parent / "fixtures" / "openapi-public"
DOCUMENTS = sorted(str(p.relative_to(PUBLIC)) for p in PUBLIC.glob("3.*/*.json"))


def test_the_fixtures_are_there() -> None:
    assert len(DOCUMENTS) >= 25


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_public_document_imports(document: str) -> None:
    contract = import_openapi(PUBLIC / document, document)
    for warning in contract.warnings:
        # Every part left out says where it is and what happened to it.
        assert warning.file == document and warning.line > 0, warning
        assert warning.message
    for message in contract.messages.values():
        schema = message.schema
        jsonschema.validators.Draft202012Validator.check_schema(schema)
        for ref in refs_in(schema):
            assert ref.startswith("#/$defs/"), (message.name, ref)
            assert ref.removeprefix("#/$defs/").split("/")[0] in schema["$defs"], (message.name, ref)
    served = contract.document
    assert served is not None
    served_ops = {
        (path, method)
        for path, item in (served.get("paths") or {}).items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert served_ops == {(op.http_path, op.http_method.lower()) for op in contract.operations.values()}


def test_most_operations_of_the_public_documents_are_imported() -> None:
    imported = total = 0
    for document in DOCUMENTS:
        contract = import_openapi(PUBLIC / document, document)
        imported += len(contract.operations)
        raw = json.loads((PUBLIC / document).read_text())
        total += sum(
            1
            for item in (raw.get("paths") or {}).values()
            for method in item
            if method in ("get", "post", "put", "patch", "delete")
        )
    assert imported / total > 0.9, (imported, total)


# A selection that covers parameters of every location and style, arrays in the query, route precedence,
# 3.1, allOf hierarchies, recursive schemas, enums and formats.
GENERATED = [
    "3.0/petstore.json",
    "3.0/parameters-common.json",
    "3.0/parameters-style.json",
    "3.0/schema-types.json",
    "3.1/train-travel.json",
]


def generate_from(document: str, root: Path) -> Path:
    """One service whose contract is the public ``document``; returns the service's folder."""
    folder = root / "spec"
    folder.mkdir(parents=True)
    (folder / "api.json").write_bytes((PUBLIC / document).read_bytes())
    (folder / "spec.yaml").write_text(
        "version: 1\nname: public\nservices:\n  api-service:\n    contracts: {openapi: api.json}\n"
    )
    spec = load_spec(folder / "spec.yaml")
    plan = build_plan(spec)
    assert not plan.errors, plan.errors
    generate(spec, plan, root / "out")
    return root / "out" / "api-service"


@pytest.mark.parametrize("document", GENERATED)
def test_generated_project_passes_ruff_mypy_and_its_tests(document: str, tmp_path: Path) -> None:
    service = generate_from(document, tmp_path)
    for tool in (("ruff", "check", "--no-cache", "."), ("ruff", "format", "--no-cache", "--check", ".")):
        result = run_tool(service, *tool)
        assert result.returncode == 0, f"{tool}:\n{result.stdout}\n{result.stderr}"
    result = run_tool(service, "mypy", "--no-incremental", "--cache-dir=/dev/null")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    result = run_tool(service, "pytest", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert " passed" in result.stdout


# An optional property whose schema does not admit null may be left out but not sent as null; a
# nullable one (3.0 `nullable: true`, 3.1 a `null` in its `type`) may be null. Requests sent to the
# generated service, and what it answers itself: (document, path, body, status).
_STRINGS = {"required": "r", "default (required)": "d"}  # the required properties of /anything/strings
NULLS = {
    "3.0/schema-types.json": [
        ("/anything/strings", {**_STRINGS, "stock": None}, 422),
        ("/anything/strings", {**_STRINGS, "default (null)": None}, 422),  # its default is null, its type not
        ("/anything/strings", {**_STRINGS, "stock": "x"}, 200),
        ("/anything/strings", {**_STRINGS, "nullable": None}, 200),
        ("/anything/strings", _STRINGS, 200),
        ("/anything/strings", {**_STRINGS, "required": None}, 422),
    ],
    "3.1/schema-types.json": [
        ("/anything/mixed", {"string and number": None}, 422),
        ("/anything/mixed", {"string and null": None, "boolean and null": None}, 200),
        ("/anything/mixed", {"string and number": 1}, 200),
    ],
    "3.0/petstore.json": [
        ("/pet", {"name": "x", "photoUrls": [], "status": None}, 422),
        ("/pet", {"name": "x", "photoUrls": [], "category": None}, 422),
        ("/pet", {"name": "x", "photoUrls": [], "tags": [{"id": None}]}, 422),
        ("/pet", {"name": "x", "photoUrls": [], "status": "sold", "tags": [{"name": "t"}]}, 200),
    ],
}

_NULLS_TEST = """
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api_service.generated import models
from api_service.generated.api import create_app

CASES: list[tuple[str, Any, int]] = {cases!r}


def _nulls(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [None for v in value.values() if v is None] + [n for v in value.values() for n in _nulls(v)]
    if isinstance(value, list):
        return [n for v in value for n in _nulls(v)]
    return []


@pytest.mark.parametrize(("path", "body", "status"), CASES)
def test_null_of_an_optional_property(path: str, body: Any, status: int) -> None:
    with TestClient(create_app()) as client:
        response = client.post(path, json=body)
    assert response.status_code == status, response.text


def test_unset_properties_are_left_out_of_what_is_sent() -> None:
    if hasattr(models, "Pet"):
        # What the generated REST clients send, and what the service answers (its example handler
        # returns a pet with only the required properties set).
        pet = models.Pet(name="x", photoUrls=[])
        assert _nulls(pet.model_dump(mode="json", by_alias=True, exclude_unset=True)) == []
        with TestClient(create_app()) as client:
            response = client.get("/pet/1")
        assert response.status_code == 200 and _nulls(response.json()) == [], response.text
"""


@pytest.mark.parametrize("document", sorted(NULLS))
def test_optional_properties_refuse_null_unless_nullable(document: str, tmp_path: Path) -> None:
    service = generate_from(document, tmp_path)
    (service / "tests" / "test_nulls.py").write_text(_NULLS_TEST.replace("{cases!r}", repr(NULLS[document])))
    result = run_tool(service, "pytest", "-q", "-p", "no:cacheprovider", "tests/test_nulls.py")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert " passed" in result.stdout


# Arrays that travel as one value (`style: form` with `explode: false`, `pipeDelimited`,
# `spaceDelimited`, a `simple` header) and as repeated query parameters, from a generated client to
# the generated service: (operation, the request the caller sends).
ARRAYS = [
    ("QueryFormNonExploded", {"array": ["a", "b c"], "primitive": "p"}),
    ("QueryPipeDelimitedNonExploded", {"array": ["x", "y"]}),
    ("QuerySpaceDelimitedNonExploded", {"array": ["1", "2"]}),
    ("HeadersSimpleNonExploded", {"array": ["h1", "h2"], "primitive": "h"}),
    ("QueryStandard", {"array": ["r", "s"]}),
    ("QueryFormNonExploded", {"array": []}),
]

_RECORDING_HANDLER = """

async def {snake}(request: models.{name}Request, ctx: Context) -> None:
    with open(os.environ["SEEN_FILE"], "a", encoding="utf-8") as seen:
        seen.write(json.dumps([{name!r}, request.model_dump(exclude_unset=True)]) + "\\n")
"""

_CALLER = """
import asyncio
import json
import sys

from gateway.generated import models
from gateway.generated.clients import ApiServiceClient
from gateway.generated.settings import Settings


async def main() -> None:
    client = ApiServiceClient(Settings())
    for name, fields in json.loads(sys.argv[1]):
        snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")  # as scaffold names it
        await getattr(client, snake)(getattr(models, name + "Request").model_validate(fields))
    await client.aclose()


asyncio.run(main())
"""


def test_arrays_of_every_supported_style_arrive_whole(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    (folder / "api.json").write_bytes((PUBLIC / "3.0" / "parameters-style.json").read_bytes())
    calls = "".join(
        f"  - {{from: gateway, to: api-service, use_case: user-facing, operation: {name}}}\n"
        for name in dict.fromkeys(name for name, _ in ARRAYS)
    )
    (folder / "spec.yaml").write_text(
        "version: 1\nname: styles\nservices:\n  gateway: {description: Calls it.}\n"
        f"  api-service:\n    contracts: {{openapi: api.json}}\ninteractions:\n{calls}"
    )
    spec = load_spec(folder / "spec.yaml")
    plan = build_plan(spec)
    assert not plan.errors, plan.errors
    out = tmp_path / "out"
    generate(spec, plan, out)
    handlers = out / "api-service" / "src" / "api_service" / "handlers.py"
    recording = "".join(
        _RECORDING_HANDLER.format(name=name, snake=names.function(name)) for name in dict.fromkeys(n for n, _ in ARRAYS)
    )
    handlers.write_text(handlers.read_text() + "\nimport json  # noqa: E402\nimport os  # noqa: E402\n" + recording)
    seen = tmp_path / "seen.jsonl"
    port = free_port()
    service = Service(out, "api-service", {"API_SERVICE_HTTP_PORT": str(port), "SEEN_FILE": str(seen)})
    service.start()
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", service)
        caller = subprocess.run(
            [sys.executable, "-c", _CALLER, json.dumps(ARRAYS)],
            cwd=out / "gateway",
            env={
                **os.environ,
                "PYTHONPATH": str(out / "gateway" / "src"),
                "GATEWAY_API_SERVICE_URL": f"http://127.0.0.1:{port}",
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        service.stop()
    assert caller.returncode == 0, caller.stderr
    received = [json.loads(line) for line in seen.read_text().splitlines()]
    assert received == [[name, fields] for name, fields in ARRAYS]
