"""Where each input of a REST operation travels: path, query, header, cookie or body.

An OpenAPI contract says it for every parameter. Operations written in the spec follow one
convention: `{field}` placeholders of the path are fields of the request message; the other
fields are the JSON body of POST, PUT and PATCH, and query parameters of GET and DELETE.
The server and the client of an operation render from this one binding, so they agree.
"""

from __future__ import annotations

import keyword
import re
from typing import Any
from urllib.parse import quote

from scaffold import names
from scaffold.plan.samples import sample
from scaffold.spec.resolved import NO_BODY, WHOLE_MESSAGE, OperationDef, ParamDef

PLACEHOLDER = re.compile(r"{([^{}/]+)}")
# Starlette's own placeholder syntax (starlette/routing.py PARAM_REGEX); others are renamed.
_ROUTE_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_PY_TYPES = {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Names the generated route functions use for themselves: parameters never take them.
_RESERVED = frozenset(
    {"request", "body", "ctx", "message", "fields", "models", "handlers", "response", "key", "idempotency", "self"}
)


def params_of(op: OperationDef, request_schema: dict[str, Any]) -> tuple[ParamDef, ...]:
    """The operation's parameters: the contract's, or those of the spec's convention."""
    if op.params is not None:
        return op.params
    props = request_schema.get("properties") or {}
    props = props if isinstance(props, dict) else {}
    required = set(request_schema.get("required") or ())
    placeholders = PLACEHOLDER.findall(op.http_path)
    out = [ParamDef(name, "path", name, True, _as_schema(props.get(name, {"type": "string"}))) for name in placeholders]
    if op.request and op.http_method not in _BODY_METHODS:
        for name, schema in props.items():
            if name in placeholders:
                continue
            schema = _as_schema(schema)
            encoding = "plain" if _plain_query(schema, request_schema) else "json"
            out.append(ParamDef(name, "query", name, name in required, schema, encoding))
    return tuple(out)


def body_of(op: OperationDef) -> str:
    """NO_BODY, WHOLE_MESSAGE or the request message's property that holds the body."""
    if op.body is not None:
        return op.body
    return WHOLE_MESSAGE if op.request and op.http_method in _BODY_METHODS else NO_BODY


def status_of(op: OperationDef) -> int:
    if op.status is not None:
        return op.status
    return 200 if op.response else 204


def binding(op: OperationDef, request_schema: dict[str, Any]) -> dict[str, Any]:
    """The operation's wire binding as plain data for the templates."""
    params = params_of(op, request_schema)
    taken: set[str] = set()
    rendered = []
    route = op.http_path
    sample_path = op.http_path
    for param in params:
        arg = _argument(param.name, taken)
        taken.add(arg)
        value = sample(param.schema, request_schema.get("$defs"))
        if value == [] and param.required:  # a required array is sent as one item at least
            value = [sample(_as_schema(param.schema.get("items")), request_schema.get("$defs"))]
        item = {
            "name": param.name,
            "field": param.field,
            "arg": arg,
            "location": param.location,
            "required": param.required,
            "json": param.encoding == "json",
            # An array that travels as one value, its items joined by this ("": not joined).
            "separator": param.separator,
            "py_type": "str" if param.encoding == "json" or param.separator else _py_type(param.schema, request_schema),
            "alias": param.name,  # None when the Python name is the wire name
            "sample_py": repr(_wire_text(value, param.encoding == "json", param.separator)),
            # The sample as (name, text) pairs: an array is one pair per item, unless joined.
            "sample_items_py": [
                repr(v) for v in _as_list(_wire_text(value, param.encoding == "json", param.separator))
            ],
        }
        if param.location == "path":
            placeholder = "{" + param.name + "}"
            if not _ROUTE_NAME.match(param.name):
                route = route.replace(placeholder, "{" + arg + "}")
                item["alias"] = arg
            text = _wire_text(value, False, param.separator)
            sample_path = sample_path.replace(placeholder, quote(str(text), safe=param.separator))
        if item["alias"] == arg:
            item["alias"] = None
        rendered.append(item)
    body = body_of(op)
    return {
        "params": rendered,
        "path_params": [p for p in rendered if p["location"] == "path"],
        "query_params": [p for p in rendered if p["location"] == "query"],
        "header_params": [p for p in rendered if p["location"] == "header"],
        "cookie_params": [p for p in rendered if p["location"] == "cookie"],
        "route": route,
        "sample_path": sample_path,
        "body": body,
        "body_required": op.body_required,
        "has_body": body != NO_BODY,
        # Whether the request is validated, so that the route can answer 422.
        "validates": bool(rendered) or body != NO_BODY,
        "status": status_of(op),
        "sample_body_py": _sample_body(body, request_schema),
    }


def _argument(name: str, taken: set[str]) -> str:
    """A Python parameter name for ``name``: snake_case, not a keyword, unique, never reserved."""
    arg = names.snake(name) or "param"
    if not arg.isidentifier():
        arg = f"p_{arg}"
    while arg in taken or arg in _RESERVED or keyword.iskeyword(arg) or keyword.issoftkeyword(arg):
        arg += "_"
    return arg


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _as_schema(schema: Any) -> dict[str, Any]:
    return schema if isinstance(schema, dict) else {}


def _resolve(schema: dict[str, Any], request_schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = (request_schema.get("$defs") or {}).get(ref.removeprefix("#/$defs/"))
        return _as_schema(target)
    return schema


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return str(kinds[0]) if len(kinds) == 1 else None
    return str(kind) if kind is not None else None


def _plain_query(schema: dict[str, Any], request_schema: dict[str, Any]) -> bool:
    """Text on the wire as it is: a primitive, or an array of primitives (repeated parameter)."""
    schema = _resolve(schema, request_schema)
    kind = _kind(schema)
    if kind == "array":
        return _kind(_resolve(_as_schema(schema.get("items")), request_schema)) in _PY_TYPES
    return kind in _PY_TYPES or (kind is None and "enum" in schema)


def _py_type(schema: dict[str, Any], request_schema: dict[str, Any]) -> str:
    """The type FastAPI reads a parameter as; the request message checks the rest."""
    schema = _resolve(schema, request_schema)
    kind = _kind(schema)
    if kind == "array":
        item = _kind(_resolve(_as_schema(schema.get("items")), request_schema))
        return f"list[{_PY_TYPES.get(str(item), 'str')}]"
    return _PY_TYPES.get(str(kind), "str")


def _wire_text(value: Any, as_json: bool, separator: str = "") -> Any:
    import json

    if as_json:
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [_wire_text(v, False) for v in value]
        return separator.join(items) if separator else items
    return "" if value is None else str(value)


def _sample_body(body: str, request_schema: dict[str, Any]) -> str:
    if body == NO_BODY:
        return "None"
    if body == WHOLE_MESSAGE:
        return repr(sample(request_schema))
    props = request_schema.get("properties") or {}
    return repr(sample({**_as_schema(props.get(body)), "$defs": request_schema.get("$defs", {})}))
