"""Jinja filters that produce finished code while copier renders, from the answers alone.

Everything copier renders must come out final: `copier update` re-renders the old version and the
new one and merges the difference into the project, so code made after rendering (and only in the
project) would read as the user's edits. Models and the user's files are therefore made here;
protobuf stubs and formatting of generated files are the template's task (scaffold.render.finish).
"""

from __future__ import annotations

import json
import tempfile
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.ext import Extension

from scaffold.errors import GenerationFailed, Problem
from scaffold.postprocess.format import format_tree


def models_module(service: dict[str, Any]) -> str:
    """The models module of a service from its messages' JSON Schemas (JSON text in the plan's
    ``sources``, which answers recorded before template 0.3.0 lack)."""
    sources = service.get("sources")
    if not isinstance(sources, dict) or "message_schemas" not in sources:
        raise GenerationFailed(
            [
                Problem(
                    file=".copier-answers.yml",
                    field="service.sources",
                    message=f"{service.get('name', 'this service')} was generated from a template older than "
                    "0.3.0, whose answers do not hold the message schemas the models are made from",
                    hint="update it with the spec: scaffold update DIR --spec SPEC",
                )
            ]
        )
    from scaffold.postprocess.models import models_source

    text = sources["message_schemas"]
    batch = BATCH.get()
    if batch is not None and text in batch.models:
        return batch.models[text]  # services with the same messages in one run share their models
    schemas: dict[str, dict[str, Any]] = json.loads(text)
    module = models_source(schemas)
    if batch is not None:
        batch.models[text] = module
    return module


@dataclass(frozen=True)
class DeferredFile:
    placeholder: str  # what the render holds in the file's place
    file: Path  # the file in its scratch project, formatted there
    relative: str  # where the render writes it, in the service


@dataclass
class BatchRender:
    """What many renders in one run share (scaffold.render.batch): the models made for a set of
    schemas, and the user's files, formatted together after the renders.

    Each file gets the scratch project :func:`python_source` would make for it, under ``scratch``, and
    the render gets a placeholder in its place, replaced by the formatted text after one ruff run over
    every scratch project; ruff takes each file's settings from the pyproject.toml nearest to it, so
    the text is the same as a ruff run in that project alone."""

    scratch: Path
    files: list[DeferredFile] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # message schemas (JSON text) -> models module

    def add(self, pyproject: str, package: str, relative: str, source: str) -> str:
        root = self.scratch / str(len(self.files))
        _scratch_project(root, pyproject, package, relative, source)
        placeholder = f"\0scaffold-formatted-{len(self.files)}\0"
        self.files.append(DeferredFile(placeholder, root / relative, relative))
        return placeholder


# Set while scaffold renders many services in one run; plain `copier copy` never sets it.
BATCH: ContextVar[BatchRender | None] = ContextVar("scaffold_batch_render", default=None)


def _scratch_project(root: Path, pyproject: str, package: str, relative: str, source: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    # ruff tells first-party imports by the folders it finds under `src`.
    (root / "src" / package).mkdir(parents=True)
    (root / "src" / package / "__init__.py").write_text("", encoding="utf-8")
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")


@jinja2.pass_context
def python_source(context: jinja2.runtime.Context, source: str, relative: str) -> str:
    """``source`` with imports sorted, unused ones dropped and formatted, exactly as ruff does it in
    the project at ``relative``: with the project's own settings, from its pyproject.toml rendered
    with the same answers.

    For the files the user owns, which the template's task must never touch once they exist."""
    environment = context.environment
    pyproject = environment.get_template("pyproject.toml.jinja").render(context.get_all())
    package = context["service"]["package"]
    batch = BATCH.get()
    if batch is not None:
        return batch.add(pyproject, package, relative, source)
    with tempfile.TemporaryDirectory(prefix="scaffold-format-") as tmp:
        root = Path(tmp)
        _scratch_project(root, pyproject, package, relative, source)
        format_tree(root, (relative,))
        return (root / relative).read_text(encoding="utf-8")


class GeneratedCode(Extension):
    """Registers the filters; named in templates/service/copier.yml under ``_jinja_extensions``."""

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.filters.update({"models_module": models_module, "python_source": python_source})
