"""Helpers shared by the generation tests: generate an example once per session, run tools in it."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from scaffold.generate import Generated, generate
from scaffold.plan.engine import build_plan
from scaffold.spec.load import load_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "specs" / "examples"
# Specs whose plan is clean enough to generate (the marketplace example is full of errors on purpose):
# the examples, a fixture of the shapes they do not cover, one of text that must stay text, and one
# of imported .proto contracts.
GENERATABLE = ["guide", "contracts", "edge", "hostile", "two-clients", "protos"]
SPECS = {
    "guide": EXAMPLES / "guide.yaml",
    "contracts": EXAMPLES / "contracts.yaml",
    "edge": ROOT / "tests" / "fixtures" / "edge" / "edge.yaml",
    "hostile": ROOT / "tests" / "fixtures" / "hostile" / "hostile.yaml",
    "two-clients": ROOT / "tests" / "fixtures" / "hostile" / "rest-and-grpc-to-one-service.yaml",
    "protos": ROOT / "tests" / "fixtures" / "protos" / "protos.yaml",
}


def load_script(name: str) -> ModuleType:
    """One of the scripts/ of the checkout, imported as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_template_version(template: Path, version: str) -> None:
    """Put ``template`` into the template cache as ``version``, the next commit after the shipped ones,
    the way a newer scaffold's bundle would."""
    from scaffold.render import history

    release = load_script("release_template")
    repo = Path(history.ensure_cache().replace("~", str(Path.home()), 1))
    tree = release.template_tree(repo, template)
    parent = release._git(repo, "rev-parse", f"{history.template_version()}^{{commit}}")
    release._git(repo, "tag", version, release._commit(repo, tree, version, parent))


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with an identity of its own; fail the test on an error."""
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def generate_example(name: str, destination: Path, **options: bool) -> Generated:
    spec = load_spec(SPECS[name])
    return generate(spec, build_plan(spec), destination, **options)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def run_tool(
    service_dir: Path, *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a Python tool inside a generated service, importing it from its src/ folder."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(service_dir / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COVERAGE_PROCESS_START", None)
    try:
        return subprocess.run(
            [sys.executable, "-m", *args],
            cwd=service_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        # A failed run, with what it printed (stack dumps of a stuck test among it), not a bare timeout.
        def text(output: bytes | str | None) -> str:
            return output.decode(errors="replace") if isinstance(output, bytes) else output or ""

        stderr = f"{text(exc.stderr)}\n[timed out after {timeout:.0f} s]"
        return subprocess.CompletedProcess(exc.cmd, -9, text(exc.stdout), stderr)


def imported_modules(root: Path) -> set[str]:
    """Every top-level module imported by any Python file under ``root``."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found
