"""The CLI end to end on the bundled example."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scaffold.cli import main

ROOT = Path(__file__).resolve().parent.parent
GUIDE = str(ROOT / "specs" / "examples" / "guide.yaml")


def test_plan_json_has_all_five_patterns_with_reasons_and_values() -> None:
    result = CliRunner().invoke(main, ["plan", GUIDE, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    patterns = {item["pattern"] for item in plan["interactions"]}
    assert patterns == {"rest", "grpc", "queue", "stream", "webhook"}
    for item in plan["interactions"]:
        assert {"from", "to", "use_case", "pattern", "reason", "resilience"} <= item.keys()
        assert item["reason"]
        assert item["resilience"]


def test_check_guide_is_clean() -> None:
    result = CliRunner().invoke(main, ["check", GUIDE])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output


def test_schema_file_is_current() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    checked_in = (ROOT / "specs" / "scaffold-spec.schema.json").read_text(encoding="utf-8")
    assert result.output == checked_in, "run: scaffold schema > specs/scaffold-spec.schema.json"


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("scaffold, version ")
