"""Optional properties of the models: which refuse null (their schema does not admit it) and which
accept it, decided from the JSON Schema of every message."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

from scaffold.postprocess.models import models_source

MESSAGES: dict[str, dict[str, Any]] = {
    "Thing": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string", "minLength": 2},
            "count": {"type": "integer", "default": 3},
            "note": {"type": ["string", "null"]},
            "size": {"enum": ["s", "m"]},
            "maybe_size": {"enum": ["s", None]},
            "part": {"$ref": "#/$defs/Part"},
            "maybe_part": {"anyOf": [{"$ref": "#/$defs/Part"}, {"type": "null"}]},
            "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "both": {"allOf": [{"type": "string"}, {"minLength": 1}]},
            "anything": {},
            "class": {"type": "boolean"},
            "nested": {"type": "object", "properties": {"depth": {"type": "integer"}}},
            "blob": {"type": "string", "contentEncoding": "base64"},
        },
    },
    "Part": {"type": "object", "properties": {"id": {"type": "integer"}}},
}
REFUSE = ["label", "count", "size", "part", "either", "both", "class", "nested", "blob"]
ACCEPT = ["note", "maybe_size", "maybe_part", "anything"]


@pytest.fixture(scope="module")
def models() -> Iterator[types.ModuleType]:
    name = "scaffold_test_models_null"
    module = types.ModuleType(name)
    sys.modules[name] = module  # pydantic looks its models' module up
    try:
        exec(compile(models_source(MESSAGES), "models.py", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[name]


@pytest.mark.parametrize("prop", REFUSE)
def test_a_property_that_cannot_be_null_refuses_null(models: types.ModuleType, prop: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="may be left out, but not null"):
        models.Thing.model_validate({"name": "x", prop: None})


@pytest.mark.parametrize("prop", ACCEPT)
def test_a_property_that_admits_null_accepts_it(models: types.ModuleType, prop: str) -> None:
    assert models.Thing.model_validate({"name": "x", prop: None}).model_dump(by_alias=True)[prop] is None


def test_left_out_properties_take_their_defaults_and_are_not_sent(models: types.ModuleType) -> None:
    thing = models.Thing.model_validate({"name": "x", "nested": {}})
    assert thing.count == 3 and thing.label is None and thing.nested.depth is None
    assert thing.model_dump(mode="json", by_alias=True, exclude_unset=True) == {"name": "x", "nested": {}}
    with pytest.raises(pydantic.ValidationError):
        models.Thing.model_validate({"name": "x", "nested": {"depth": None}})
    with pytest.raises(pydantic.ValidationError):
        models.Thing.model_validate({"name": None})


def test_the_rest_of_a_marked_fields_schema_keywords_stay(models: types.ModuleType) -> None:
    # A bytes field of a .proto contract: its `contentEncoding` rides along with the mark.
    assert models.Thing.model_json_schema()["properties"]["blob"]["contentEncoding"] == "base64"


def test_a_mark_in_the_spec_itself_is_not_trusted() -> None:
    messages = {"M": {"type": "object", "properties": {"a": {"type": ["string", "null"], "x-scaffold-not-null": True}}}}
    assert "_NOT_NULL" not in models_source(messages)


@pytest.mark.parametrize("width", range(30, 50))
def test_a_field_whose_line_is_wrapped_still_refuses_null(width: int) -> None:
    # Long enough lines come out as `name: Type | None = (\n    Field(...)\n)`: the wrapping
    # parentheses go with the value they hold.
    prop = "p" * width
    messages = {
        "LongNames": {
            "type": "object",
            "properties": {prop: {"type": "object", "title": "T" * width, "properties": {"x": {"type": "string"}}}},
        }
    }
    name = f"scaffold_test_models_wrapped_{width}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(models_source(messages), "models.py", "exec"), module.__dict__)
        with pytest.raises(pydantic.ValidationError, match="not null"):
            module.LongNames.model_validate({prop: None})
        assert module.LongNames.model_validate({}).model_dump(exclude_unset=True) == {}
    finally:
        del sys.modules[name]


def test_a_field_that_discriminates_a_union_is_left_as_it_is() -> None:
    # nexmo.com's reports API: `oneOf` with a `discriminator` on a property its branches leave optional;
    # pydantic refuses a validator on a discriminator field.
    def branch(product: str, field: str) -> dict[str, Any]:
        kinds = {"product": {"type": "string", "enum": [product]}, field: {"type": "string"}}
        return {"type": "object", "properties": kinds}

    messages = {
        "Report": {
            "type": "object",
            "properties": {
                "fields": {
                    "oneOf": [{"$ref": "#/$defs/Sms"}, {"$ref": "#/$defs/Voice"}],
                    "discriminator": {"propertyName": "product"},
                }
            },
            "$defs": {"Sms": branch("SMS", "a"), "Voice": branch("VOICE", "b")},
        }
    }
    source = models_source(messages)
    assert "discriminator='product'" in source
    name = "scaffold_test_models_discriminator"
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(source, "models.py", "exec"), module.__dict__)
        report = module.Report.model_validate({"fields": {"product": "VOICE", "b": "x"}})
        assert type(report.fields).__name__ == "ReportVoice"
        with pytest.raises(pydantic.ValidationError, match="not null"):
            module.Report.model_validate({"fields": {"product": "VOICE", "b": None}})
    finally:
        del sys.modules[name]


def test_a_root_model_keeps_no_default_of_its_own() -> None:
    # OpenAI's API: a `oneOf` property with `default: "<|endoftext|>"`, one branch an array of integers;
    # datamodel-code-generator copied the default into the branch's root model, which mypy refuses.
    messages = {
        "Completion": {
            "type": "object",
            "properties": {
                "prompt": {  # a nullable `oneOf` of 3.0, as the importer writes it
                    "anyOf": [
                        {
                            "default": "<|endoftext|>",
                            "oneOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"type": "integer"}, "minItems": 1},
                            ],
                        },
                        {"type": "null"},
                    ]
                }
            },
        }
    }
    source = models_source(messages)
    assert "class Prompt(RootModel" in source and '"<|endoftext|>"' not in source.split("class Completion")[0]
    name = "scaffold_test_models_roots"
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(source, "models.py", "exec"), module.__dict__)
        # datamodel-code-generator attached the default to the branches only: left out, it stays unset.
        assert module.Completion.model_validate({}).prompt is None
        assert module.Completion.model_validate({"prompt": [1, 2]}).model_dump(mode="json")["prompt"] == [1, 2]
    finally:
        del sys.modules[name]
