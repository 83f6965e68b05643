"""The released versions of the service template, which copier renders and updates from.

The package ships the template's history as a git bundle (templates/history/service.bundle, one tagged
commit per released version; scripts/release_template.py adds one). copier renders a version from a git
repository and records where it was in every project's `.copier-answers.yml`, so that `copier update`
can render the old version again: that place is a per-user cache repository,
``~/.cache/scaffold/templates/service``, recorded with its ``~`` so that it resolves for any user on any
machine with scaffold installed. The bundle's tags are fetched into it (under a lock, only when one is
missing); tags never move, so installations of different scaffold versions share it safely.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from functools import cache
from pathlib import Path

from packaging.version import Version

from scaffold.errors import ScaffoldError
from scaffold.render.templates import template_dir

# What copier records as `_src_path`: the same text on every machine.
SOURCE = "~/.cache/scaffold/templates/service"


class TemplateHistoryError(ScaffoldError):
    """The template's history cannot be made available to copier."""


class TemplateTooNew(ScaffoldError):
    """A service records a template version newer than this installation of scaffold has."""

    exit_code = 1


@cache
def shipped_versions() -> dict[str, str]:
    """Released template versions -> commit ids, oldest first."""
    index = template_dir("history") / "service.json"
    try:
        versions: dict[str, str] = json.loads(index.read_text(encoding="utf-8"))["versions"]
    except (OSError, ValueError, KeyError) as exc:
        raise TemplateHistoryError(
            f"scaffold's template history is missing or broken ({index}: {exc}); reinstall scaffold"
        ) from exc
    return dict(sorted(versions.items(), key=lambda item: Version(item[0])))


def template_version() -> str:
    """The newest template version this installation ships: what new and updated services get."""
    return list(shipped_versions())[-1]


def cache_repository() -> Path:
    return Path(SOURCE).expanduser()


def refuse_newer(recorded: str, where: str) -> None:
    """Refuse a service generated from a template version newer than this scaffold's."""
    from scaffold import __version__

    current = template_version()
    try:
        newer = Version(recorded) > Version(current)
    except ValueError:
        raise TemplateHistoryError(f"{where} records template version {recorded!r}, which is not a version") from None
    if newer:
        raise TemplateTooNew(
            f"{where} was generated from template version {recorded}, newer than this scaffold "
            f"({__version__}), whose newest template version is {current}; upgrade scaffold "
            "(pip install --upgrade scaffold-services) and run the command again"
        )


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The caller's GIT_DIR, GIT_INDEX_FILE... must not redirect what happens to the cache.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False, env=env)
    except FileNotFoundError:
        raise TemplateHistoryError(
            "scaffold renders services from a git repository of its templates and needs git: install git"
        ) from None


def _tags(repo: Path) -> dict[str, str]:
    if not (repo / ".git").is_dir():
        return {}
    listing = _git(repo, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags")
    if listing.returncode != 0:
        raise TemplateHistoryError(f"cannot read the template cache {repo}: {listing.stderr.strip()}")
    return dict(line.split(" ", 1) for line in listing.stdout.splitlines() if " " in line)


def _missing(tags: dict[str, str]) -> list[str]:
    return [version for version, commit in shipped_versions().items() if tags.get(version) != commit]


def ensure_cache() -> str:
    """Make sure the cache repository holds every shipped version; return the `_src_path` for copier."""
    repo = cache_repository()
    if not _missing(_tags(repo)):
        return SOURCE
    try:
        repo.parent.mkdir(parents=True, exist_ok=True)
        with (repo.parent / f"{repo.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _fill(repo)
    except OSError as exc:
        raise TemplateHistoryError(f"cannot write the template cache {repo}: {exc.strerror or exc}") from exc
    return SOURCE


def _fill(repo: Path) -> None:
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        init = _git(repo, "init", "-q")
        if init.returncode != 0:
            raise TemplateHistoryError(f"cannot create the template cache {repo}: {init.stderr.strip()}")
    tags = _tags(repo)
    moved = [v for v in _missing(tags) if v in tags]
    if moved:
        raise TemplateHistoryError(
            f"the template cache {repo} holds template version {moved[0]} at commit {tags[moved[0]]}, but "
            f"scaffold ships it as {shipped_versions()[moved[0]]}; released versions never change, so the cache "
            f"was changed by hand or by a modified scaffold: delete {repo} and run the command again"
        )
    if not _missing(tags):
        return  # another process filled it while this one waited for the lock
    bundle = template_dir("history") / "service.bundle"
    fetch = _git(repo, "fetch", "-q", "--no-tags", str(bundle), "refs/tags/*:refs/tags/*")
    if fetch.returncode != 0:
        raise TemplateHistoryError(
            f"cannot fetch scaffold's template history ({bundle}) into {repo}: {fetch.stderr.strip()}"
        )
    left = _missing(_tags(repo))
    if left:
        raise TemplateHistoryError(
            f"scaffold's template history ({bundle}) lacks template version {left[0]}; reinstall scaffold"
        )
