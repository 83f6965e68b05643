"""The built wheel, installed (not editable) in a fresh venv, generates the examples from any folder.

CI runs the same check with dependencies from the package index (`scripts/check_wheel.py`); here the
venv borrows this environment's dependencies so the test needs no network.
"""

from __future__ import annotations

import importlib.util
import os
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.generation import ROOT, generate_example


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_wheel", ROOT / "scripts" / "check_wheel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _can_build() -> str:
    """Why a wheel cannot be built here ('' when it can)."""
    if importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("pip") is None:
        return "needs pip and setuptools in the test environment"
    if not (ROOT / "pyproject.toml").is_file():
        return "needs the source tree"
    return ""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Path, Path]:
    reason = _can_build()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot build the wheel: {reason}")
        pytest.skip(f"cannot build the wheel: {reason}")
    script = _load_script()
    work = tmp_path_factory.mktemp("wheel")
    wheel = script.build_wheel(script.clean_sources(work / "src"), work / "dist", isolated=False)
    script.install_wheel(wheel, work / "venv", reuse_current=True)
    return script, wheel, work


def test_the_wheel_carries_every_template(installed: tuple[ModuleType, Path, Path]) -> None:
    _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = ROOT / "templates"
    expected = {
        "scaffold/templates/" + p.relative_to(sources).as_posix()
        for p in sources.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected <= names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_the_installed_wheel_generates_the_examples_from_another_folder(
    installed: tuple[ModuleType, Path, Path],
) -> None:
    script, _, work = installed
    location = script.installed_location(work / "venv")
    assert location.is_relative_to(work / "venv"), location
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    generated = script.generate_examples([str(work / "venv" / "bin" / "scaffold")], work / "out", elsewhere)
    assert {"guide", "contracts"} <= set(generated)
    for example in ("guide", "contracts"):
        generate_example(example, work / "checkout" / example)
        assert script.differences(work / "out" / example, work / "checkout" / example) == []
