"""Generated services are held to the standard of hand-written code: for every example that
generates, each service passes ruff, mypy and its own tests out of the box."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.generation import GENERATABLE, generate_example, run_tool


@pytest.fixture(scope="module", params=GENERATABLE)
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(request.param) / "out"
    generate_example(request.param, out)
    return out


def _services(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "pyproject.toml").is_file())


def _report(result: object) -> str:
    return f"{getattr(result, 'stdout', '')}\n{getattr(result, 'stderr', '')}"


def test_ruff_passes(generated: Path) -> None:
    for service in _services(generated):
        result = run_tool(service, "ruff", "check", "--no-cache", ".")
        assert result.returncode == 0, f"{service.name}:\n{_report(result)}"
        result = run_tool(service, "ruff", "format", "--no-cache", "--check", ".")
        assert result.returncode == 0, f"{service.name}:\n{_report(result)}"


def test_mypy_strict_passes(generated: Path) -> None:
    for service in _services(generated):
        result = run_tool(service, "mypy", "--no-incremental", "--cache-dir=/dev/null")
        assert result.returncode == 0, f"{service.name}:\n{_report(result)}"


def test_own_tests_pass(generated: Path) -> None:
    for service in _services(generated):
        result = run_tool(service, "pytest", "-q", "-p", "no:cacheprovider")
        assert result.returncode == 0, f"{service.name}:\n{_report(result)}"
        assert " passed" in result.stdout and " failed" not in result.stdout
