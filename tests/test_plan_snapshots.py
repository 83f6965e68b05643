"""`scaffold plan --json` for every bundled example, pinned as one readable JSON file each.

After an intended change of the plan, review and update with:
    .venv/bin/pytest tests/test_plan_snapshots.py --snapshot-update
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from scaffold.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "specs" / "examples"
SPECS = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def plan_json(spec: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["plan", str(spec), "--json"])
    assert result.exit_code in (0, 1), result.output
    return {"exit_code": result.exit_code, "plan": json.loads(result.output)}


def test_there_are_examples() -> None:
    assert {"guide.yaml", "marketplace.yaml"} <= {spec.name for spec in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=[spec.stem for spec in SPECS])
def test_plan_json(spec: Path, snapshot_json: SnapshotAssertion) -> None:
    assert plan_json(spec) == snapshot_json


@pytest.mark.parametrize("spec", SPECS, ids=[spec.stem for spec in SPECS])
def test_plan_json_is_deterministic(spec: Path) -> None:
    first = CliRunner().invoke(main, ["plan", str(spec), "--json"]).output
    assert CliRunner().invoke(main, ["plan", str(spec), "--json"]).output == first
