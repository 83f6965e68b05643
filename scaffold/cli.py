"""The `scaffold` command line.

Exit codes: 0 clean (warnings allowed), 1 a check reported an error, 2 the spec is invalid or
the command was used wrongly.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from scaffold import __version__
from scaffold.errors import GenerationFailed, ScaffoldError, SpecInvalid
from scaffold.plan.engine import build_plan
from scaffold.plan.model import Plan
from scaffold.report import explain_text, findings_text, plan_text
from scaffold.spec.load import load_spec
from scaffold.spec.resolved import LoadedSpec


def _color() -> bool | None:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return False if os.environ.get("NO_COLOR") else None


def _use_color() -> bool:
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _load(spec_path: str, root: str | None) -> tuple[LoadedSpec, Plan]:
    """Load the spec and plan it; on invalid input print every problem and exit 2."""
    try:
        spec = load_spec(spec_path, root)
    except SpecInvalid as exc:
        count = len(exc.problems)
        for problem in exc.problems:
            click.echo(problem.render(), err=True, color=_color())
        click.echo(f"{spec_path}: invalid spec ({count} problem{'s' * (count != 1)})", err=True)
        sys.exit(exc.exit_code)
    except ScaffoldError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    return spec, build_plan(spec)


def _load_plan(spec_path: str, root: str | None) -> tuple[str, Plan]:
    spec, plan = _load(spec_path, root)
    return spec.path, plan


def _progress() -> Callable[[str], None]:
    """Progress lines on a terminal's stderr; nothing in a pipe."""
    show = sys.stderr.isatty()

    def progress(text: str) -> None:
        if show:
            click.echo(f"rendering {text}", err=True)

    return progress


def _tool_failed(exc: GenerationFailed, what: str) -> NoReturn:
    """A tool failed on what scaffold gave it: where, what and how to fix, like an invalid spec."""
    for problem in exc.problems:
        click.echo(problem.render(), err=True, color=_color())
    click.echo(f"error: {what}", err=True)
    sys.exit(exc.exit_code)


SPEC = click.argument("spec", type=click.Path(dir_okay=False, path_type=str))
ROOT = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Folder the files the spec references (`$ref`, contracts) must be in. Default: the spec's folder.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="scaffold")
def main() -> None:
    """Turn a service-interaction spec into a plan (and runnable services).

    Each link between services gets a pattern (rest, grpc, queue, stream, webhook) from the
    guide's decision table, a reason, and concrete resilience settings.
    """


@main.command()
@SPEC
@ROOT
def check(spec: str, root: str | None) -> None:
    """Validate SPEC and run the architecture checks.

    Exits 0 when clean (warnings allowed), 1 when a check reports an error, 2 when the spec is
    invalid.
    """
    path, plan = _load_plan(spec, root)
    if plan.findings:
        click.echo(findings_text(plan.findings, path, _use_color()), color=_color())
    errors, warnings = len(plan.errors), len(plan.warnings)
    click.echo(
        f"{path}: {len(plan.interactions)} interactions, {errors} error{'s' * (errors != 1)}, "
        f"{warnings} warning{'s' * (warnings != 1)}"
    )
    sys.exit(1 if errors else 0)


@main.command()
@SPEC
@ROOT
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
def plan(spec: str, root: str | None, as_json: bool) -> None:
    """Show the pattern, reason and resilience settings chosen for each interaction of SPEC.

    Exits like `check`: 1 when the plan has errors, so scripts can rely on it.
    """
    path, result = _load_plan(spec, root)
    if as_json:
        click.echo(json.dumps(result.to_json_data(), indent=2, sort_keys=False))
    else:
        click.echo(plan_text(result, path, _use_color()), color=_color())
    sys.exit(1 if result.errors else 0)


@main.command()
@SPEC
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Folder to write the services into.",
)
@click.option("--force", is_flag=True, help="Regenerate into a non-empty folder; your own files are kept.")
@click.option("--dry-run", is_flag=True, help="List the files that would be written; write nothing.")
@ROOT
def generate(spec: str, output: str, force: bool, dry_run: bool, root: str | None) -> None:
    """Generate one Python project per service of SPEC into OUTPUT.

    Refuses to write when the plan has errors (see `scaffold check`) or when OUTPUT is not empty
    (unless --force). Nothing is written unless every service renders.
    """
    from pathlib import Path

    from scaffold.generate import Terminated
    from scaffold.generate import generate as run_generate

    loaded, result = _load(spec, root)
    path = loaded.path
    progress = _progress()

    try:
        generated = run_generate(loaded, result, Path(output), force=force, dry_run=dry_run, progress=progress)
    except GenerationFailed as exc:
        _tool_failed(exc, f"generation failed; nothing was written to {output}")
    except ScaffoldError as exc:
        if result.errors:
            click.echo(findings_text(result.errors, path, _use_color()), err=True, color=_color())
        click.echo(f"error: {exc}", err=True)
        sys.exit(1 if result.errors else exc.exit_code)
    except Terminated as exc:
        click.echo(f"error: stopped by signal {exc.signum}; nothing was written to {output}", err=True)
        sys.exit(exc.code)
    except OSError as exc:
        # The output folder cannot be written (permissions, full disk): nothing was moved into place.
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    if dry_run:
        for name in generated.files:
            click.echo(str(Path(output) / name))
        return
    for name in generated.kept:
        click.echo(f"kept your {name}", err=True)
    for name in generated.removed:
        click.echo(f"removed {name}: the spec no longer produces it", err=True)
    for handlers, stub in generated.stubs:
        if stub.operation == "test":
            click.echo(f"added to {handlers} the test {stub.function}() of a new operation", err=True)
        else:
            click.echo(
                f"added to {handlers} a stub {stub.function}() for {stub.operation}: it raises "
                "NotImplementedError, and its test in tests/test_handlers.py fails, until you write it",
                err=True,
            )
    for name in generated.orphaned:
        click.echo(f"kept your edited {name}: the spec no longer produces it; delete it if unneeded", err=True)
    for line in generated.summary:
        click.echo(f"  {line}")
    click.echo(f"generated {len(generated.services)} services ({len(generated.files)} files) in {output}")


@main.command()
def schema() -> None:
    """Print the JSON Schema of the spec format (checked in as specs/scaffold-spec.schema.json)."""
    from scaffold.spec.schema import spec_json_schema

    click.echo(spec_json_schema())


@main.command()
def explain() -> None:
    """Print the decision table and every resilience default with its source."""
    click.echo(explain_text())


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="The changed spec to bring the services to. Without it: template changes only, each service "
    "keeping the slice of the spec its .copier-answers.yml records.",
)
@click.option("--dry-run", is_flag=True, help="List per file what would change; change nothing.")
@ROOT
def update(directory: str, spec_path: str | None, dry_run: bool, root: str | None) -> None:
    """Update the services generated in DIRECTORY to this scaffold's template version (and to --spec).

    A three-way merge through git: your edits are kept, handlers.py and tests/test_handlers.py are never
    rewritten (a handler a new operation needs is added as a stub that raises NotImplementedError), and
    generated files are brought up to date. DIRECTORY must be in a git repository without uncommitted
    changes or unresolved conflicts. Services new in the spec are generated; services no longer in it
    are reported and kept. Exits 1 when conflicts are left (listed by file; resolve them and commit).
    """
    from pathlib import Path

    from scaffold.generate import Terminated
    from scaffold.update import update as run_update

    loaded, result = _load(spec_path, root) if spec_path is not None else (None, None)
    progress = _progress()

    try:
        updated = run_update(Path(directory), loaded, result, dry_run=dry_run, progress=progress)
    except Terminated as exc:
        click.echo(f"error: stopped by signal {exc.signum}; nothing was changed in {directory}", err=True)
        sys.exit(exc.code)
    except GenerationFailed as exc:
        _tool_failed(exc, f"update failed; nothing was changed in {directory}")
    except ScaffoldError as exc:
        if result is not None and result.errors:
            click.echo(findings_text(result.errors, loaded.path if loaded else "", _use_color()), err=True)
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        click.echo(f"error: cannot update {directory}: {exc.strerror or exc}; nothing was changed", err=True)
        sys.exit(2)
    would = "would " if dry_run else ""
    from scaffold.render.history import template_version

    for name, version in updated.updated:
        if version == template_version():
            click.echo(f"{would}update {name} (template {version})")
        else:
            click.echo(f"{would}update {name} (template {version} -> {template_version()})")
    for name in updated.added:
        click.echo(f"{would}add {name}: new in the spec")
    for name in updated.removed_services:
        click.echo(f"kept {name}: no longer in the spec; delete its folder if it is unneeded")
    for status, relative, counts in updated.changes:
        click.echo(f"  {status} {relative}" + (f" ({counts})" if counts and status != "D" else ""))
    for handlers, stub in updated.stubs:
        click.echo(
            f"{would}add to {handlers} a stub {stub.function}() for {stub.operation}: it raises "
            "NotImplementedError, and its test in tests/test_handlers.py fails, until you write it"
        )
    for handlers, function in updated.unused:
        click.echo(f"{handlers}: {function}() is no longer called (its operation left the spec); delete it")
    for tests, name in updated.tests:
        click.echo(f"{would}add to {tests} the test {name}() of a new operation")
    for relative in updated.orphaned:
        click.echo(f"kept your edited {relative}: the spec no longer produces it; delete it if unneeded")
    if not updated.changes:
        click.echo(f"{directory} is up to date")
    if updated.conflicts:
        for relative in updated.conflicts:
            click.echo(f"{'would conflict' if dry_run else 'conflict'}: {relative}", err=True)
        if not dry_run:
            click.echo(
                f"error: {len(updated.conflicts)} file(s) in {directory} have conflicts: resolve the "
                "<<<<<<< ======= >>>>>>> markers (yours above, scaffold's below), then commit",
                err=True,
            )
        sys.exit(1)
