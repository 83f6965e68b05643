#!/usr/bin/env python3
"""Release the service template (templates/service) as a new version of its shipped history.

The history is a git bundle inside the package (templates/history/service.bundle): one commit per
released template version, tagged with the version, with a fixed author, committer and date so that
rebuilding it gives the same commit ids and the same bytes. Released versions never change: a tag that
exists is refused, and tests/fixtures/template-history.json records the tree of every version.

    .venv/bin/python scripts/release_template.py 0.2.0   # release the checked-in template as 0.2.0
    .venv/bin/python scripts/release_template.py --check # the history rebuilds byte for byte and its
                                                         # newest version is the checked-in template

After a release, refresh the golden record (generated services record the new version).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.version import InvalidVersion, Version

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "templates" / "service"
HISTORY = REPO / "templates" / "history"
BUNDLE = HISTORY / "service.bundle"
INDEX = HISTORY / "service.json"
FIXTURE = REPO / "tests" / "fixtures" / "template-history.json"
# Every commit of the history has this identity and date: rebuilding gives the same ids.
IDENTITY = {
    "GIT_AUTHOR_NAME": "scaffold",
    "GIT_AUTHOR_EMAIL": "scaffold@localhost",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "scaffold",
    "GIT_COMMITTER_EMAIL": "scaffold@localhost",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000",
}
SKIPPED = ("__pycache__", ".pyc")


class ReleaseError(Exception):
    pass


def _git(repo: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "pack.threads=1", "-c", "core.autocrlf=false", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**clean, **IDENTITY, **(env or {})},
    )
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _versions(index: Path = INDEX) -> dict[str, str]:
    """Released versions -> commit ids, oldest first."""
    if not index.is_file():
        return {}
    data = json.loads(index.read_text(encoding="utf-8"))
    return dict(data["versions"])


def _sorted(versions: dict[str, str]) -> dict[str, str]:
    return dict(sorted(versions.items(), key=lambda item: Version(item[0])))


def template_tree(repo: Path, template: Path = TEMPLATE) -> str:
    """Write the files of ``template`` into ``repo``'s object store; return the id of their tree."""
    index = repo / ".git" / "release-index"
    index.unlink(missing_ok=True)
    env = {"GIT_INDEX_FILE": str(index)}
    files = sorted(
        p
        for p in template.rglob("*")
        if p.is_file() and not any(part == SKIPPED[0] for part in p.parts) and not p.name.endswith(SKIPPED[1])
    )
    lines = []
    for path in files:
        blob = _git(repo, "hash-object", "-w", "--no-filters", str(path))
        mode = "100755" if os.access(path, os.X_OK) else "100644"
        lines.append(f"{mode} {blob}\t{path.relative_to(template).as_posix()}\n")
    _git(repo, "update-index", "--add", "--index-info", stdin="".join(lines), env=env)
    tree = _git(repo, "write-tree", env=env)
    index.unlink()
    return tree


def _commit(repo: Path, tree: str, version: str, parent: str | None) -> str:
    args = ["commit-tree", tree, "-m", f"service template {version}"]
    if parent:
        args += ["-p", parent]
    return _git(repo, *args)


def _write_bundle(repo: Path, bundle: Path) -> None:
    partial = bundle.with_name(bundle.name + ".partial")
    # Deltas computed afresh from the objects alone: a bundle reuses the repository's packed deltas,
    # which depend on how its objects arrived (fetched from the old bundle, or one commit at a time).
    _git(repo, "repack", "-a", "-d", "-F", "-q")
    _git(repo, "bundle", "create", str(partial), "--tags")
    partial.replace(bundle)


def _load_history(repo: Path, bundle: Path) -> None:
    _git(repo, "init", "-q")
    if bundle.is_file():
        _git(repo, "fetch", "-q", str(bundle), "refs/tags/*:refs/tags/*")


def release(version: str, *, template: Path = TEMPLATE, history: Path = HISTORY, fixture: Path = FIXTURE) -> str:
    """Add ``template`` as ``version`` to the history in ``history``; return the new commit id."""
    try:
        Version(version)
    except InvalidVersion as exc:
        raise ReleaseError(f"{version!r} is not a version (PEP 440, like 0.2.0)") from exc
    bundle, index = history / "service.bundle", history / "service.json"
    versions = _versions(index)
    if version in versions:
        raise ReleaseError(f"template version {version} is already released; released versions never change")
    latest = max(versions, key=Version) if versions else None
    if latest is not None and Version(version) <= Version(latest):
        raise ReleaseError(f"template version {version} is not newer than the latest release, {latest}")
    with tempfile.TemporaryDirectory(prefix="scaffold-release-") as temp:
        repo = Path(temp)
        _load_history(repo, bundle)
        tree = template_tree(repo, template)
        if latest is not None and _git(repo, "rev-parse", f"{versions[latest]}^{{tree}}") == tree:
            raise ReleaseError(f"the template has not changed since {latest}: nothing to release")
        commit = _commit(repo, tree, version, versions[latest] if latest else None)
        _git(repo, "tag", version, commit)
        history.mkdir(parents=True, exist_ok=True)
        _write_bundle(repo, bundle)
    versions[version] = commit
    index.write_text(json.dumps({"versions": _sorted(versions)}, indent=2) + "\n", encoding="utf-8")
    trees = json.loads(fixture.read_text(encoding="utf-8")) if fixture.is_file() else {}
    trees[version] = tree
    fixture.write_text(json.dumps(_sorted(trees), indent=2) + "\n", encoding="utf-8")
    return commit


def check(*, template: Path = TEMPLATE, history: Path = HISTORY) -> list[str]:
    """What is wrong with the shipped history ([] when it rebuilds byte for byte from its own trees, with
    the same commit ids, and its newest version is ``template``)."""
    bundle, index = history / "service.bundle", history / "service.json"
    versions = _versions(index)
    if not versions or not bundle.is_file():
        return [f"no template history in {history}: release one with scripts/release_template.py VERSION"]
    problems = []
    with tempfile.TemporaryDirectory(prefix="scaffold-release-check-") as temp:
        shipped, rebuilt = Path(temp) / "shipped", Path(temp) / "rebuilt"
        shipped.mkdir()
        rebuilt.mkdir()
        _load_history(shipped, bundle)
        _git(rebuilt, "init", "-q")
        parent = None
        for version, commit in versions.items():
            tags = _git(shipped, "tag", "--points-at", commit)
            if version not in tags.split():
                problems.append(f"the bundle's tag {version} does not point at {commit}")
                continue
            tree = _git(shipped, "rev-parse", f"{commit}^{{tree}}")
            _git(rebuilt, "fetch", "-q", str(shipped), f"{commit}")  # the tree's objects
            again = _commit(rebuilt, tree, version, parent)
            if again != commit:
                problems.append(f"version {version} rebuilds as commit {again}, the bundle has {commit}")
            _git(rebuilt, "tag", version, again)
            parent = again
        if problems:
            return problems
        copy = Path(temp) / "rebuilt.bundle"
        _write_bundle(rebuilt, copy)
        if copy.read_bytes() != bundle.read_bytes():
            problems.append(f"{bundle} does not rebuild byte for byte from its history")
        latest = list(versions)[-1]
        if template_tree(shipped, template) != _git(shipped, "rev-parse", f"{versions[latest]}^{{tree}}"):
            problems.append(
                f"{template} differs from template version {latest}: release it with "
                "scripts/release_template.py NEW_VERSION, then refresh the golden record"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("version", nargs="?", help="the new template version (PEP 440, newer than the last)")
    parser.add_argument("--check", action="store_true", help="check the shipped history; change nothing")
    args = parser.parse_args()
    try:
        if args.check:
            problems = check()
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            return 1 if problems else 0
        if not args.version:
            parser.error("give the new template version, or --check")
        commit = release(args.version)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"released template version {args.version} (commit {commit}) into {BUNDLE.relative_to(REPO)}")
    print("next: refresh the golden record: .venv/bin/pytest tests/test_golden.py --snapshot-update")
    return 0


if __name__ == "__main__":
    sys.exit(main())
