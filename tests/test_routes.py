"""Route order and 405 guards of generated REST services: the more specific path wins."""

from __future__ import annotations

from typing import Any

from scaffold.plan.services import route_guards


def _ops(*routes: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"route": route, "method": method} for method, route in routes]


def test_a_concrete_path_refuses_what_only_its_templated_twin_serves() -> None:
    guards = route_guards(_ops(("GET", "/pets/mine"), ("GET", "/pets/{id}"), ("DELETE", "/pets/{id}")))
    assert guards == [{"route": "/pets/mine", "methods": ["DELETE"]}]


def test_a_custom_method_refuses_the_methods_of_the_bare_placeholder() -> None:
    # Google's custom methods: `POST /v2/{name}:undelete` beside `GET|DELETE /v2/{name}`.
    guards = route_guards(
        _ops(
            ("GET", "/v2/{name}"),
            ("DELETE", "/v2/{name}"),
            ("POST", "/v2/{name}:undelete"),
            ("GET", "/v2/keys:lookupKey"),
        )
    )
    assert guards == [
        {"route": "/v2/keys:lookupKey", "methods": ["DELETE"]},
        {"route": "/v2/{name}:undelete", "methods": ["DELETE", "GET"]},
    ]


def test_a_guard_leaves_a_method_to_a_more_specific_route() -> None:
    guards = route_guards(_ops(("GET", "/v2/{name}"), ("POST", "/v2/{name}:undelete"), ("GET", "/v2/old:undelete")))
    assert guards == [{"route": "/v2/old:undelete", "methods": ["POST"]}]


def test_unrelated_templates_get_no_guard() -> None:
    assert route_guards(_ops(("GET", "/a/{x}"), ("POST", "/b/{y}"), ("PUT", "/a/{x}/c"))) == []
