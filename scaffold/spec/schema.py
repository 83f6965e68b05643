"""The JSON Schema of the spec format, for editors' autocompletion and validation."""

from __future__ import annotations

import json

from scaffold.spec.model import Spec

SCHEMA_ID = "https://scaffold.invalid/specs/scaffold-spec.schema.json"


def spec_json_schema() -> str:
    """The schema as stable, pretty-printed JSON (by-alias names, as written in YAML)."""
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
