"""The service template's task: compile its .proto contracts and format its generated code.

copier runs it (`python -m scaffold.render.finish`, see templates/service/copier.yml) in the folder
it has just rendered, on every render: the first copy, and the three renders of `copier update`
(the old version, the project, the new version). It reads nothing but that folder's answers, so the
three come out alike and the update's merge sees only real changes. It writes only generated files:
the files the user owns are formatted when they are rendered (scaffold.render.generated_code) and
never touched here, and neither is anything else the user added.

On failure the problems go to stderr, and, as JSON, to the file named by ``SCAFFOLD_PROBLEMS_FILE``
when scaffold itself runs the render.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import GenerationFailed, Problem
from scaffold.postprocess.format import format_tree
from scaffold.postprocess.syntax import check_python_sources

ANSWERS = ".copier-answers.yml"
PROBLEMS_FILE = "SCAFFOLD_PROBLEMS_FILE"


def read_answers(path: Path) -> Any:
    """A service's copier answers (libyaml's parser when PyYAML has it: the answers are large)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader either way


def generated_paths(service: dict[str, Any]) -> tuple[str, ...]:
    """The Python the template generates, relative to the service (the user's files excepted)."""
    package = f"src/{service['package']}"
    return (
        f"{package}/__init__.py",
        f"{package}/__main__.py",
        f"{package}/generated",
        "tests/__init__.py",
        "tests/generated",
    )


def finish(root: Path) -> None:
    """Compile the contracts and format the generated code of the service rendered at ``root``."""
    format_tree(root, compile_and_check(root))


def compile_and_check(root: Path) -> tuple[str, ...]:
    """Compile the contracts of the service rendered at ``root`` and check that its generated Python
    compiles; return the paths (relative to ``root``) that are left to format."""
    service = read_answers(root / ANSWERS)["service"]
    _compile(service, root / "src" / service["package"] / "generated" / "proto")
    paths = tuple(p for p in generated_paths(service) if (root / p).exists())
    check_python_sources(root, paths)  # before ruff: a located error instead of ruff's
    return paths


def _compile(service: dict[str, Any], proto_dir: Path) -> None:
    # What an earlier render compiled goes first: a contract the spec dropped leaves no stale stubs.
    for stale in sorted(proto_dir.iterdir()):
        if stale.name == "__init__.py":
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    contracts = ([service["grpc"]] if service["grpc"] else []) + list(service["grpc_clients"])
    if not contracts:
        return
    # Imported here: most services have no gRPC, and this task runs on every render.
    from scaffold.postprocess.protos import compile_protos, write_protos
    from scaffold.proto_files import layout

    written = write_protos(contracts, service["system"], proto_dir)
    descriptors = {
        owner: (base64.b64decode(entry["descriptor"]), entry["main"])
        for owner, entry in service["sources"]["proto_descriptors"].items()
    }
    compile_protos(proto_dir, written, layout(descriptors, reserved=service["proto_reserved"]))


def main() -> int:
    try:
        finish(Path.cwd())
    except GenerationFailed as failed:
        _report(failed.problems)
        return 1
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        _report([Problem(file=ANSWERS, message=f"cannot finish the render: {type(exc).__name__}: {exc}")])
        return 1
    return 0


def _report(problems: list[Problem]) -> None:
    target = os.environ.get(PROBLEMS_FILE)
    if target:  # scaffold reports them
        Path(target).write_text(json.dumps([asdict(problem) for problem in problems]), encoding="utf-8")
        return
    for problem in problems:
        print(problem.render(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
