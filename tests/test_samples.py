"""Example values of generated handlers and tests: valid against their schema, patterns included."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold.plan.samples import sample

# Patterns of public contracts (AWS ARNs, Azure subscription ids) and the regex features they use.
PATTERNS = [
    r"arn:([a-z\d-]+):.*:.*:.*:.+",
    r"^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$",
    r"^[^@\s]+@[^.\s]+\.com$",
    r"^(a|bb)\1$",
    r"^\d{3}-\d{2}$",
    r"^(?!x)[a-z]+$",
    r"^[A-Z]{2}(?:-[A-Z0-9]{1,3})?$",
    r"^\W\S\D$",
    r"^[^0-9a]{3}$",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_string_sample_matches_its_pattern(pattern: str) -> None:
    schema = {"type": "string", "pattern": pattern}
    jsonschema.validate(sample(schema), schema)


def test_a_pattern_and_a_minimum_length_are_both_met() -> None:
    schema = {"type": "string", "pattern": "^[a-z]{2,}$", "minLength": 5}
    jsonschema.validate(sample(schema), schema)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PATTERNS), st.integers(min_value=1, max_value=40))
def test_the_sample_of_a_pattern_is_valid_or_plain(pattern: str, min_length: int) -> None:
    # What a simple construction cannot find falls back to the plain sample, never to an exception.
    schema = {"type": "string", "pattern": pattern, "minLength": min_length}
    value = sample(schema)
    assert isinstance(value, str) and len(value) >= min_length


def test_an_all_of_that_annotates_a_string_gives_a_string() -> None:
    # AWS's contracts wrap every property so: `allOf: [{$ref: ...}, {description: ...}]`.
    defs = {"Name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}, "Kind": {"enum": ["AVG", "SUM"]}}
    schema = {
        "type": "object",
        "required": ["name", "kind"],
        "properties": {
            "name": {"allOf": [{"$ref": "#/$defs/Name"}, {"description": "The name."}]},
            "kind": {"allOf": [{"$ref": "#/$defs/Kind"}, {"description": "The kind."}]},
        },
        "$defs": defs,
    }
    value = sample(schema)
    assert value == {"name": "a", "kind": "AVG"}
    jsonschema.validate(value, schema)


def test_a_map_with_a_minimum_of_entries_gets_them() -> None:
    schema = {
        "type": "object",
        "required": ["tags"],
        "properties": {
            "tags": {"type": "object", "minProperties": 2, "additionalProperties": {"type": "string", "minLength": 1}}
        },
    }
    value = sample(schema)
    assert value == {"tags": {"key1": "x", "key2": "x"}}
    jsonschema.validate(value, schema)


def test_an_all_of_branch_may_require_what_another_defines() -> None:
    # nexmo.com's reports API: `allOf: [Report, SmsFields]`, SmsFields requires Report's `account_id`.
    schema = {
        "allOf": [{"$ref": "#/$defs/Report"}, {"$ref": "#/$defs/SmsFields"}],
        "$defs": {
            "Report": {"type": "object", "properties": {"account_id": {"type": "string", "minLength": 3}}},
            "SmsFields": {
                "type": "object",
                "required": ["product", "account_id"],
                "properties": {"product": {"enum": ["SMS"]}},
            },
        },
    }
    value = sample(schema)
    assert value == {"product": "SMS", "account_id": "xxx"}
    jsonschema.validate(value, schema)


def test_a_minimum_length_of_an_array_counts_as_its_minimum_of_items() -> None:
    # Royal Mail's Click & Drop API: `items: {type: array, minLength: 1}`, which the models enforce.
    assert sample({"type": "array", "minLength": 2, "items": {"type": "integer"}}) == [1, 1]


def test_an_all_of_beside_properties_of_its_own_keeps_both() -> None:
    # Azure's resources: `allOf: [{$ref: Resource}]` next to `properties` and `required` of their own.
    schema = {
        "allOf": [{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}],
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    }
    value = sample(schema)
    assert value == {"id": "x", "location": "x"}
    jsonschema.validate(value, schema)


def test_a_property_of_one_possible_value_is_set() -> None:
    # Spotify's objects: `type: {enum: [artist]}`, which the models require when a union discriminates on it.
    schema = {"type": "object", "properties": {"type": {"enum": ["artist"]}, "kind": {"const": 3}, "id": {}}}
    assert sample(schema) == {"type": "artist", "kind": 3}


def test_items_without_a_type_make_a_list() -> None:
    # Slack's `objs_conversation`: `items` and no `type`, which datamodel-code-generator reads as a list.
    assert sample({"items": {"type": "string"}, "minItems": 1}) == ["x"]


def test_items_beside_branches_pick_the_list_branch() -> None:
    # Slack's `objs_user_profile.fields`: `items` next to `oneOf: [object, array]`; the models read a list.
    schema = {"items": {"type": "object"}, "oneOf": [{"type": "object"}, {"type": "array", "items": {}}]}
    value = sample(schema)
    assert value == []
    jsonschema.validate(value, schema)
