"""`scaffold generate`: spec -> plan -> render -> post-process, written atomically.

Everything is rendered into a temporary folder next to the destination and moved into place
only when every service rendered and compiled; a failure leaves the destination untouched.
"""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from scaffold.errors import ScaffoldError
from scaffold.plan.model import Plan
from scaffold.plan.services import message_schemas, service_slices
from scaffold.postprocess.format import format_tree
from scaffold.postprocess.models import models_source
from scaffold.postprocess.protos import compile_protos, write_protos
from scaffold.render.service import render_service
from scaffold.render.templates import template_dir
from scaffold.spec.resolved import LoadedSpec


class GenerateError(ScaffoldError):
    """Generation refused or failed; nothing was written."""


@dataclass(frozen=True)
class Generated:
    root: Path
    services: list[str]
    files: list[str]
    kept: list[str]  # user-owned files that already existed and were left as they were
    summary: list[str]  # one line per service: the names it got in code, its ports


def _summary(service: dict[str, Any]) -> str:
    grpc = f", gRPC :{service['grpc_port']} ({service['grpc']['full_service']})" if service["grpc"] else ""
    return (
        f"{service['name']}: package {service['package']}, env {service['env_prefix']}*, "
        f"REST :{service['http_port']}{grpc}"
    )


def user_owned_patterns() -> list[str]:
    """The template's `_skip_if_exists` globs: files created once and never overwritten."""
    config = yaml.safe_load((template_dir("service") / "copier.yml").read_text(encoding="utf-8"))
    return list(config.get("_skip_if_exists", []))


def is_user_owned(relative: str, patterns: list[str]) -> bool:
    """Whether a path inside a generated service (``src/pkg/handlers.py``) belongs to the user."""
    return any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


def generate(
    spec: LoadedSpec,
    plan: Plan,
    destination: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> Generated:
    if plan.errors:
        raise GenerateError(
            f"the plan has {len(plan.errors)} error(s); run `scaffold check` and fix them before generating"
        )
    destination = destination.resolve()
    if destination.exists() and not destination.is_dir():
        raise GenerateError(f"{destination} exists and is not a directory")
    if destination.is_dir() and any(destination.iterdir()) and not force and not dry_run:
        raise GenerateError(f"{destination} is not empty; pass --force to regenerate into it (your files are kept)")
    parent = destination.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".scaffold-", dir=parent))
    try:
        slices = _render_all(spec, plan, staging, progress)
        services = [s["name"] for s in slices]
        summary = [_summary(s) for s in slices]
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        if dry_run:
            return Generated(destination, services, files, [], summary)
        kept = _install(staging, destination)
        return Generated(destination, services, files, kept, summary)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _render_all(spec: LoadedSpec, plan: Plan, root: Path, progress: Callable[[str], None]) -> list[dict[str, Any]]:
    slices = service_slices(spec, plan)
    schemas = message_schemas(spec)
    for index, service in enumerate(slices, start=1):
        progress(f"[{index}/{len(slices)}] {service['name']}")
        target = root / service["name"]
        render_service(service, target)
        _postprocess(service, target, schemas, Path(spec.path).resolve().parent)
    _render_system(spec, slices, root)
    format_tree(root)
    return slices


def _postprocess(service: dict[str, Any], target: Path, schemas: dict[str, dict[str, Any]], spec_dir: Path) -> None:
    generated = target / "src" / service["package"] / "generated"
    models = {name: schemas[name] for name in service["messages"]}
    (generated / "models.py").write_text(models_source(models), encoding="utf-8")
    contracts = ([service["grpc"]] if service["grpc"] else []) + list(service["grpc_clients"])
    proto_dir = generated / "proto"
    compile_protos(proto_dir, write_protos(contracts, service["system"], proto_dir, spec_dir))


def _render_system(spec: LoadedSpec, slices: list[dict[str, Any]], root: Path) -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir("system")),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    for name in ("README.md", "Makefile"):
        text = env.get_template(f"{name}.jinja").render(system=spec.name, services=slices)
        (root / name).write_text(text, encoding="utf-8")


def _install(staging: Path, destination: Path) -> list[str]:
    """Move the staged tree into place, keeping every user-owned file that already exists."""
    patterns = user_owned_patterns()
    kept: list[str] = []
    if destination.is_dir() and any(destination.iterdir()):
        merged = Path(tempfile.mkdtemp(prefix=".scaffold-merge-", dir=destination.parent))
        shutil.rmtree(merged)
        shutil.copytree(destination, merged, symlinks=True)
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            relative = path.relative_to(staging)
            target = merged / relative
            inside_service = Path(*relative.parts[1:]).as_posix() if len(relative.parts) > 1 else ""
            if target.exists() and inside_service and is_user_owned(inside_service, patterns):
                kept.append(relative.as_posix())
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        old = destination.with_name(destination.name + ".scaffold-old")
        destination.rename(old)
        merged.rename(destination)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if destination.is_dir():
            destination.rmdir()
        shutil.move(str(staging), str(destination))
        staging.mkdir()  # the caller's cleanup expects it
    return kept
