"""The built wheel, installed (not editable) in a fresh venv, generates the examples from any folder.

CI runs the same check with dependencies from the package index (`scripts/check_wheel.py`); here the
venv borrows this environment's dependencies so the test needs no network.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.generation import ROOT, generate_example, load_script


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
    script = load_script("check_wheel")
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


def test_plain_copier_update_works_in_a_service_from_the_installed_wheel(
    installed: tuple[ModuleType, Path, Path],
) -> None:
    """The documented `copier update` inside one service, with a fresh HOME and nothing but the wheel: the
    recorded `~/.cache/scaffold/templates/service` is filled from the wheel's bundle and resolves."""
    _, _, work = installed
    home = work / "fresh-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_ALLOW_PROTOCOL="file",
        NO_PROXY="*",
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
    )
    out = work / "update-out"
    scaffold = str(work / "venv" / "bin" / "scaffold")
    spec = str(ROOT / "specs" / "examples" / "guide.yaml")
    subprocess.run([scaffold, "generate", spec, "-o", str(out)], cwd=home, env=env, check=True, capture_output=True)
    service = out / "order-service"
    answers = (service / ".copier-answers.yml").read_text(encoding="utf-8")
    version = next(line.split(": ", 1)[1] for line in answers.splitlines() if line.startswith("_commit:"))
    assert "_src_path: ~/.cache/scaffold/templates/service\n" in answers
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=service, env=env, check=True)
    subprocess.run([*git, "add", "-A"], cwd=service, env=env, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "generated"], cwd=service, env=env, check=True)
    python = str(work / "venv" / "bin" / "python")
    update = subprocess.run(
        [python, "-m", "copier", "update", "--trust", "--vcs-ref", version, "--defaults"],
        cwd=service,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert update.returncode == 0, update.stderr
    status = subprocess.run(["git", "status", "--porcelain"], cwd=service, env=env, capture_output=True, text=True)
    assert status.stdout == ""
