"""Render one service project from the `service` template with copier."""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2

from scaffold.errors import GenerationFailed, Problem
from scaffold.render.batch import Renderer
from scaffold.render.finish import PROBLEMS_FILE
from scaffold.render.history import cache_repository, ensure_cache, template_version
from scaffold.render.templates import template_dir
from scaffold.render.toolchain import grpc_toolchain


class RenderFailed(GenerationFailed):
    """copier or Jinja could not render a template with what the plan gave it."""


def render_service(
    service: dict[str, Any],
    destination: Path,
    spec_file: str = "",
    *,
    source: str | None = None,
    renderer: Renderer | None = None,
) -> None:
    """Render ``service`` (a slice from :func:`scaffold.plan.services.service_slices`) into ``destination``,
    from ``source``, the template cache that :func:`ensure_cache` returns (checked here when not given).

    With ``renderer`` (rendering many services into new folders), the render is finished by
    :meth:`Renderer.finish <scaffold.render.batch.Renderer.finish>` with the others."""
    import copier

    template = template_dir("service")
    if renderer is not None:
        try:
            renderer.render(
                copier_data(service), destination, version=template_version(), settings=copier_settings(renderer.source)
            )
        except GenerationFailed as failed:
            raise type(failed)([replace(p, file=p.file or spec_file) for p in failed.problems]) from None
        except Exception as exc:
            raise RenderFailed([render_problem(exc, spec_file, f"services.{service['name']}", template)]) from exc
        return
    source = source or ensure_cache()
    with _task_problems() as problems:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                copier.run_copy(
                    source,
                    str(destination),
                    # Always the version: without it copier takes the newest tag in the shared cache.
                    vcs_ref=template_version(),
                    data=copier_data(service),
                    defaults=True,
                    overwrite=True,
                    quiet=True,
                    unsafe=False,
                    settings=copier_settings(source),
                )
        except GenerationFailed as failed:
            # A models schema datamodel-code-generator rejects, named by message: in the spec.
            raise type(failed)([replace(p, file=p.file or spec_file) for p in failed.problems]) from None
        except Exception as exc:
            if problems.is_file() and problems.stat().st_size:
                found = [Problem(**entry) for entry in json.loads(problems.read_text(encoding="utf-8"))]
                raise GenerationFailed([_in_service(p, destination, spec_file) for p in found]) from None
            raise RenderFailed([render_problem(exc, spec_file, f"services.{service['name']}", template)]) from exc


def _in_service(problem: Problem, destination: Path, spec_file: str) -> Problem:
    """A problem of the template's task, its file named from the output folder (the task names it
    from the service's)."""
    if not problem.file:
        return replace(problem, file=spec_file)
    if problem.file.startswith(("src/", "tests/")):
        return replace(problem, file=f"{destination.name}/{problem.file}")
    return problem


@contextmanager
def _task_problems() -> Iterator[Path]:
    """A file where the template's task (scaffold.render.finish) writes what went wrong, as data."""
    with tempfile.TemporaryDirectory(prefix="scaffold-task-") as folder:
        target = Path(folder) / "problems.json"
        # copier gives tasks plumbum's copy of the environment, not os.environ.
        from plumbum import local

        with local.env(**{PROBLEMS_FILE: str(target)}):
            yield target


def copier_data(service: dict[str, Any]) -> dict[str, Any]:
    """The answers copier renders a service from: the same for a first copy and for every update."""
    return {"service": service, "toolchain": grpc_toolchain().requirements()}


def copier_settings(source: str) -> Any:
    """copier settings for rendering from ``source`` (what :func:`ensure_cache` returned).

    scaffold's own template is trusted, and only it: its unsafe features are its Jinja extensions
    (scaffold.render.filters, scaffold.render.generated_code) and its task (scaffold.render.finish).
    This also keeps a user's copier settings (defaults, trust) out of
    generation, so output depends on the spec alone."""
    import copier

    return copier.Settings(defaults={}, trust=[source, str(cache_repository())])


def render_problem(exc: Exception, spec_file: str, field: str, template: Path) -> Problem:
    """Where a template failed (the template's file and line when Jinja knows them) and what to do."""
    where = ""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        where = f" ({exc.filename}, line {exc.lineno})"
    detail = " ".join(str(exc).split())[:300] or type(exc).__name__
    return Problem(
        file=spec_file,
        field=field,
        message=f"cannot render the template {template.name}{where}: {type(exc).__name__}: {detail}",
        hint="a bug in scaffold's templates or in the plan they were given; report it with the spec",
    )
