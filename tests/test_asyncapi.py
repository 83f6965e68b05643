"""The system's AsyncAPI document: built from the plan, the same bytes every time, and valid to the
official AsyncAPI parser (`@asyncapi/parser` from npm, installed by scripts/install_tools.sh) for the
examples and for random valid specs."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings

from scaffold.plan.engine import build_plan
from scaffold.render.asyncapi import asyncapi_document, asyncapi_text
from scaffold.spec.load import load_spec
from tests.brokers import missing
from tests.generation import ROOT, SPECS, generate_example
from tests.test_generated_properties import valid_specs

NODE_MODULES = ROOT / ".cache" / "node" / "node_modules"
VALIDATOR = Path(__file__).resolve().parent / "asyncapi" / "validate.cjs"
RANDOM_SPECS = 25


def _parse(files: list[Path]) -> list[dict[str, Any]]:
    """What the AsyncAPI parser says of each file: errors, warnings and what it found."""
    node = shutil.which("node")
    if node is None:
        missing("node is not installed (apt-get install nodejs npm), so the AsyncAPI parser cannot run")
    if not (NODE_MODULES / "@asyncapi" / "parser" / "package.json").is_file():
        missing(f"@asyncapi/parser is not in {NODE_MODULES}: run scripts/install_tools.sh")
    result = subprocess.run(
        [str(node), str(VALIDATOR), str(NODE_MODULES), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _document(name: str) -> tuple[str, dict[str, Any]]:
    spec = load_spec(SPECS[name])
    plan = build_plan(spec)
    text = asyncapi_text(spec, plan)
    document = asyncapi_document(spec, plan)
    assert text is not None and document is not None
    return text, document


def test_guide_document_has_every_channel_binding_and_consumer_group() -> None:
    text, document = _document("guide")
    channels = document["channels"]
    assert sorted(channels) == [
        "order-events",
        "order-events.analytics-service.dlt",
        "order-events.analytics-service.retry",
        "order.created",
        "order.created.notification-service",
        "order.created.notification-service.dlq",
    ]
    queue = channels["order.created.notification-service"]["bindings"]["amqp"]
    assert queue["is"] == "queue"
    assert queue["x-arguments"] == {
        "x-queue-type": "quorum",
        "x-delivery-limit": 20,
        "x-dead-letter-exchange": "order.created.dlx",
    }
    assert channels["order.created"]["bindings"]["amqp"]["is"] == "routingKey"
    topic = channels["order-events"]
    assert topic["bindings"]["kafka"]["topic"] == "order-events"
    assert topic["messages"]["OrderCreated"]["bindings"]["kafka"]["key"]["description"].startswith("The `user_id`")
    group = document["operations"]["analytics-service.receive.order-events"]["bindings"]["kafka"]["groupId"]
    assert group == {"type": "string", "enum": ["analytics-service"]}
    assert document["operations"]["order-service.send.order.created"]["action"] == "send"
    # The payload is the spec's schema of the message.
    assert (
        document["components"]["schemas"]["OrderCreated"] == load_spec(SPECS["guide"]).messages["OrderCreated"].schema
    )
    # Same plan, same bytes; and the text is the document.
    assert text == _document("guide")[0]
    assert yaml.safe_load(text) == document


def test_local_references_of_a_schema_are_moved_with_it() -> None:
    from scaffold.render.asyncapi import _relocated

    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"line": {"$ref": "#/$defs/Line"}, "note": {"const": {"$ref": "#/not-a-reference"}}},
        "$defs": {"Line": {"type": "object"}},
    }
    moved = _relocated(schema, "#/components/schemas/Order")
    assert moved["properties"]["line"] == {"$ref": "#/components/schemas/Order/$defs/Line"}
    assert moved["properties"]["note"] == {"const": {"$ref": "#/not-a-reference"}}  # data, left alone
    assert "$schema" not in moved
    assert schema["properties"]["line"] == {"$ref": "#/$defs/Line"}  # the spec's own copy is untouched


def test_generate_writes_the_document_beside_the_system_readme(tmp_path: Path) -> None:
    generate_example("guide", tmp_path / "out")
    written = (tmp_path / "out" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert written == _document("guide")[0]
    assert "asyncapi.yaml" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")


def test_a_system_without_queues_or_streams_gets_no_document(tmp_path: Path) -> None:
    spec = load_spec(SPECS["protos"])
    plan = build_plan(spec)
    assert not any(p.pattern in ("queue", "stream") for p in plan.interactions)
    assert asyncapi_text(spec, plan) is None


def test_the_asyncapi_parser_accepts_the_examples_without_warnings(tmp_path: Path) -> None:
    files = []
    for name in SPECS:
        spec = load_spec(SPECS[name])
        text = asyncapi_text(spec, build_plan(spec))
        if text is not None:
            files.append(tmp_path / f"{name}.yaml")
            files[-1].write_text(text, encoding="utf-8")
    assert len(files) >= 2
    for report in _parse(files):
        assert report["parsed"], report
        assert report["errors"] == [] and report["warnings"] == [], report
        assert report["channels"] > 0 and report["operations"] > 0 and report["messages"] > 0, report


def test_the_asyncapi_parser_accepts_documents_of_random_specs(tmp_path: Path) -> None:
    texts: list[str] = []

    @settings(
        max_examples=RANDOM_SPECS,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(valid_specs())
    def collect(data: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory(prefix="scaffold-asyncapi-") as folder:
            spec_file = Path(folder) / "spec.yaml"
            spec_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            spec = load_spec(spec_file)
            text = asyncapi_text(spec, build_plan(spec))
        if text is not None:
            texts.append(text)

    collect()
    assert len(texts) >= 5, "too few random specs with a queue or a stream"
    files = []
    for index, text in enumerate(texts):
        files.append(tmp_path / f"random-{index}.yaml")
        files[-1].write_text(text, encoding="utf-8")
    for report, text in zip(_parse(files), texts, strict=True):
        assert report["parsed"] and report["errors"] == [] and report["warnings"] == [], f"{report}\n{text}"
