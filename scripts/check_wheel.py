#!/usr/bin/env python3
"""Build scaffold's wheel, install it (not editable) in a fresh venv and generate every bundled example
with it from a folder outside the checkout.

A spec that `scaffold check` passes must generate; one it rejects must be refused with nothing written.
With ``--compare-with-checkout`` the trees must equal, byte for byte, what the checkout's own code
generates (which the golden tests pin).

    .venv/bin/python scripts/check_wheel.py --compare-with-checkout  # deps from the package index
    .venv/bin/python scripts/check_wheel.py --reuse-current          # deps from this environment, offline
"""

from __future__ import annotations

import argparse
import os
import shutil
import site
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "specs" / "examples"
# What the build reads; copied alone so that a stale build/ folder of the checkout cannot leak into the wheel.
SOURCES = ("pyproject.toml", "README.md", "scaffold", "templates")


def _run(command: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, **options)  # type: ignore[call-overload, no-any-return]


def _must(result: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        raise SystemExit(f"{what} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def clean_sources(target: Path) -> Path:
    """Copy what the build reads into ``target`` (links kept: scaffold/templates points to templates/)."""
    junk = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir(parents=True)
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, symlinks=True, ignore=junk)
        else:
            shutil.copy2(source, target / name)
    return target


def build_wheel(sources: Path, dist: Path, *, isolated: bool) -> Path:
    """Build the wheel; ``isolated=False`` uses this environment's setuptools instead of fetching one."""
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(sources)]
    if not isolated:
        command.insert(4, "--no-build-isolation")
    _must(_run(command), "building the wheel")
    wheels = sorted(dist.glob("scaffold_services-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel in {dist}, found {[w.name for w in wheels]}")
    return wheels[0]


def install_wheel(wheel: Path, environment: Path, *, reuse_current: bool) -> Path:
    """A fresh venv with the wheel installed; returns its `scaffold` command.

    ``reuse_current`` installs the wheel alone and lets the venv import its dependencies from this
    interpreter's site-packages (appended after its own, so the wheel's `scaffold` comes first)."""
    venv.EnvBuilder(with_pip=not reuse_current, clear=True).create(environment)
    python = environment / "bin" / "python"
    if reuse_current:
        purelib = _must(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]), "venv")
        own = Path(purelib.stdout.strip())
        (own / "_scaffold_check_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
        # --ignore-installed: this interpreter may have scaffold installed itself, which pip would call satisfied.
        command = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            "--ignore-installed",
            str(wheel),
        ]
    else:
        command = [str(python), "-m", "pip", "install", "-q", str(wheel)]
    _must(_run(command), "installing the wheel")
    return environment / "bin" / "scaffold"


def installed_location(environment: Path) -> Path:
    """Where the venv imports `scaffold` from, asked from outside any checkout."""
    python = environment / "bin" / "python"
    result = _run([str(python), "-I", "-c", "import scaffold; print(scaffold.__file__)"], cwd=environment)
    return Path(_must(result, "importing scaffold").stdout.strip()).parent


def generate_examples(scaffold: list[str], out: Path, workdir: Path) -> list[str]:
    """Generate every example that `scaffold check` passes into out/<example>; return their names."""
    generated = []
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    for spec in sorted(EXAMPLES.glob("*.yaml")):
        check = _run([*scaffold, "check", str(spec)], cwd=workdir, env=env)
        target = out / spec.stem
        run = _run([*scaffold, "generate", str(spec), "-o", str(target)], cwd=workdir, env=env)
        if check.returncode == 0:
            _must(run, f"scaffold generate {spec.name}")
            generated.append(spec.stem)
        elif check.returncode == 1:
            if run.returncode != 1 or target.exists():
                raise SystemExit(f"{spec.name}: a plan with errors was generated:\n{run.stdout}{run.stderr}")
        else:
            raise SystemExit(f"scaffold check {spec.name} failed (exit {check.returncode}):\n{check.stderr}")
    if not generated:
        raise SystemExit(f"no example in {EXAMPLES} generated")
    return generated


def tree(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def differences(ours: Path, reference: Path) -> list[str]:
    left, right = tree(ours), tree(reference)
    names = sorted(left.keys() | right.keys())
    return [name for name in names if left.get(name) != right.get(name)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse-current", action="store_true", help="take dependencies from this environment")
    parser.add_argument("--compare-with-checkout", action="store_true", help="compare with the checkout's output")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scaffold-wheel-") as temp:
        work = Path(temp)
        wheel = build_wheel(clean_sources(work / "src"), work / "dist", isolated=not args.reuse_current)
        scaffold = install_wheel(wheel, work / "venv", reuse_current=args.reuse_current)
        location = installed_location(work / "venv")
        if not location.is_relative_to(work / "venv"):
            raise SystemExit(f"the venv imports scaffold from {location}, not from the installed wheel")
        elsewhere = work / "elsewhere"
        elsewhere.mkdir()
        examples = generate_examples([str(scaffold)], work / "out", elsewhere)
        print(f"{wheel.name}: installed in a fresh venv, generated {', '.join(examples)} from {elsewhere}")
        if args.compare_with_checkout:
            # `python -m scaffold` run in the checkout imports the checkout's package.
            reference = generate_examples([sys.executable, "-m", "scaffold"], work / "reference", REPO)
            for example in reference:
                changed = differences(work / "out" / example, work / "reference" / example)
                if changed:
                    raise SystemExit(f"{example}: the wheel generates other bytes than the checkout: {changed[:10]}")
            print("the wheel generates the same bytes as the checkout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
