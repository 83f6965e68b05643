"""`scaffold generate` renders its services in one batch (scaffold.render.batch); every service must come
out byte for byte as a plain `copier copy --trust` of the released template writes it, answers
included, or `copier update`'s three-way merge would see differences that nobody made."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scaffold.generate import generate
from scaffold.plan.engine import build_plan
from scaffold.plan.services import service_slices
from scaffold.render.history import ensure_cache, template_version
from scaffold.render.service import copier_data
from scaffold.spec.load import load_spec
from tests.generation import SPECS

# The guide (REST, gRPC served and called, queues, streams) and imported .proto contracts.
CASES = ["guide", "protos"]


def _tree(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root``: relative path -> (executable bits, bytes)."""
    return {
        path.relative_to(root).as_posix(): (stat.S_IMODE(path.stat().st_mode) & 0o111, path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _plain_copy(service: dict[str, object], destination: Path, scratch: Path) -> None:
    """What a user's `copier copy` of one service does, with the answers scaffold gives copier."""
    answers = scratch / f"{service['name']}.yml"
    answers.write_text(yaml.safe_dump(copier_data(service), sort_keys=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "SCAFFOLD_PROBLEMS_FILE"}
    command = [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet", "--trust"]
    command += ["--vcs-ref", template_version(), "--data-file", str(answers), ensure_cache(), str(destination)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", CASES)
def test_each_service_is_what_a_plain_copier_copy_writes(name: str, tmp_path: Path) -> None:
    spec = load_spec(str(SPECS[name]))
    plan = build_plan(spec)
    generated = generate(spec, plan, tmp_path / "out")
    slices = service_slices(spec, plan)
    assert sorted(generated.services) == sorted(s["name"] for s in slices) and slices
    plain = tmp_path / "plain"
    for service in slices:
        _plain_copy(service, plain / service["name"], tmp_path)
        batch, alone = _tree(generated.root / service["name"]), _tree(plain / service["name"])
        assert ".copier-answers.yml" in batch
        assert sorted(batch) == sorted(alone), service["name"]
        different = [path for path in batch if batch[path] != alone[path]]
        assert different == [], f"{service['name']}: {different}"
