"""Import an OpenAPI 3.0/3.1 document into operations and JSON Schema messages."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import Problem, SpecInvalid
from scaffold.names import pascal
from scaffold.spec.contracts import HTTP_PATH, PASCAL, PASCAL_HINT, ImportedContract
from scaffold.spec.resolved import IDEMPOTENT_METHODS, MessageDef, OperationDef
from scaffold.spec.yaml_source import Loc, Source, parse_yaml, read_text

_YAML_STR = "tag:yaml.org,2002:str"
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")
_SUCCESS_CODES = ("200", "201", "202")
_COMPONENT = "#/components/schemas/"
_BUNDLE_HINT = "bundle the document into one file (for example `redocly bundle`) so refs point into components/schemas"
# JSON Schema keywords whose values are schemas (maps of, lists of, or single schemas).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_ONE = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "additionalItems",
        "contentSchema",
    }
)


def import_openapi(path: Path, display: str) -> ImportedContract:
    """Read the operations of an OpenAPI 3.0/3.1 document and the schemas they use."""
    source = _load_document(path, display)
    _check_openapi_version(source)
    return _OpenApiImporter(source, f"openapi:{display}").run()


def _load_document(path: Path, display: str) -> Source:
    text = read_text(path, display)
    if not text.lstrip().startswith("{"):
        return parse_yaml(_quote_plain_keys(text), display)
    # JSON through the YAML parser gives positions, but YAML 1.1 reads `1e5` as a string: take
    # the values from the json module and only the positions from YAML.
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecInvalid(
            [
                Problem(
                    file=display,
                    line=exc.lineno,
                    column=exc.colno,
                    message=f"JSON syntax error: {exc.msg}",
                    hint="check the JSON around this line",
                )
            ]
        ) from None
    try:
        # YAML rejects tabs between JSON tokens; a valid JSON string never holds a raw tab.
        source = parse_yaml(text.replace("\t", " "), display)
    except SpecInvalid:
        source = Source(path=display, data=None)  # positions are a nicety; the data is valid JSON
    source.data = data
    return source


def _quote_plain_keys(text: str) -> str:
    """Quote plain keys YAML would read as non-strings, which the spec loader rejects.

    OpenAPI writes status codes as bare keys (`200:`), and YAML 1.1 reads `200` as an integer
    (and a property named `on` as a boolean). Quoting keeps every line number as it was.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return text  # parse_yaml reports the error with its position
    spans: list[tuple[int, int]] = []
    seen: set[int] = set()
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if id(node) in seen:  # aliases share nodes; walk each once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.style is None and key.tag != _YAML_STR:
                    spans.append((key.start_mark.index, key.end_mark.index))
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    for start, end in sorted(spans, reverse=True):
        text = f'{text[:start]}"{text[start:end]}"{text[end:]}'
    return text


def _check_openapi_version(source: Source) -> None:
    doc = source.data
    hint = "contracts.openapi must point at an OpenAPI 3.0 or 3.1 document"
    if not isinstance(doc, dict):
        raise SpecInvalid([source.problem((), "an OpenAPI document must be a mapping", hint)])
    if "swagger" in doc:
        raise SpecInvalid(
            [
                source.problem(
                    ("swagger",),
                    f"Swagger {doc['swagger']} (OpenAPI 2) is not supported",
                    "convert it to OpenAPI 3 (for example with swagger2openapi)",
                )
            ]
        )
    if "openapi" not in doc:
        raise SpecInvalid([source.problem((), "not an OpenAPI document: the `openapi` key is missing", hint)])
    if not re.match(r"^3\.\d+(\.\d+)?$", str(doc["openapi"]).strip()):
        raise SpecInvalid([source.problem(("openapi",), f"OpenAPI version `{doc['openapi']}` is not supported", hint)])


class _Reported(Exception):
    """An operation cannot be read further; its problem is already recorded."""


class _OpenApiImporter:
    def __init__(self, source: Source, origin: str) -> None:
        self.source = source
        self.doc: dict[str, Any] = source.data
        self.origin = origin
        # 3.0 schemas are a JSON Schema dialect (`nullable`, boolean exclusive bounds); 3.1+ are 2020-12.
        self.legacy = str(self.doc["openapi"]).strip().startswith("3.0")
        components = self.doc.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        self.schemas: dict[str, Any] = schemas if isinstance(schemas, dict) else {}
        self.problems: list[Problem] = []
        self.operations: dict[str, OperationDef] = {}
        self.messages: dict[str, MessageDef] = {}

    def run(self) -> ImportedContract:
        paths = self.doc.get("paths")
        if not isinstance(paths, dict) or not paths:
            raise SpecInvalid(
                [self.source.problem(("paths",), "the document has no paths", "add paths with operations to import")]
            )
        for http_path, item in paths.items():
            if not str(http_path).startswith("x-"):  # extensions, not paths
                self._path_item(str(http_path), item)
        if not self.problems and not self.operations:
            self._report(
                ("paths",),
                "the document has no get, post, put, patch or delete operations",
                "add operations to import",
            )
        if self.problems:
            raise SpecInvalid(self.problems)
        return ImportedContract(operations=self.operations, messages=dict(sorted(self.messages.items())))

    def _report(self, loc: Loc, message: str, hint: str = "") -> None:
        self.problems.append(self.source.problem(loc, message, hint))

    def _fail(self, loc: Loc, message: str, hint: str = "") -> _Reported:
        self._report(loc, message, hint)
        return _Reported()

    def _path_item(self, http_path: str, item: Any) -> None:
        loc: Loc = ("paths", http_path)
        if not isinstance(item, dict):
            self._report(loc, "a path item must be a mapping of methods to operations")
            return
        if "$ref" in item:
            self._report((*loc, "$ref"), "path items with `$ref` are not supported", "write the path item inline")
            return
        if not HTTP_PATH.match(http_path):
            self._report(
                loc,
                f"path `{http_path}` has characters scaffold cannot route",
                "start with `/` and use letters, digits, `-`, `_`, `.`, `/` and `{field}`",
            )
        for method, operation in item.items():
            if method in _HTTP_METHODS:
                with contextlib.suppress(_Reported):  # already reported; go on with the next one
                    self._operation(http_path, method, operation)

    def _operation(self, http_path: str, method: str, op: Any) -> None:
        loc: Loc = ("paths", http_path, method)
        if not isinstance(op, dict):
            raise self._fail(loc, "an operation must be a mapping")
        name = self._operation_name(loc, op)
        description = op.get("summary") or op.get("description") or ""
        self.operations[name] = OperationDef(
            name=name,
            description=" ".join(str(description).split()),
            request=self._request(name, loc, op.get("requestBody")),
            response=self._response(name, loc, op.get("responses")),
            idempotent=self._idempotent(loc, method, op),
            streaming="none",
            http_method=method.upper(),
            http_path=http_path,
            transports=frozenset({"rest"}),
        )

    def _operation_name(self, loc: Loc, op: dict[str, Any]) -> str:
        operation_id = op.get("operationId")
        if not isinstance(operation_id, str) or not operation_id.strip():
            raise self._fail(
                loc,
                "operation has no operationId",
                "add an operationId, like `getUser`; it names the operation (`GetUser`)",
            )
        name = pascal(operation_id)
        if not PASCAL.match(name):
            raise self._fail(
                (*loc, "operationId"),
                f"operationId `{operation_id}` does not make a name",
                "start it with a letter, like `getUser`",
            )
        if name in self.operations:
            raise self._fail(
                (*loc, "operationId"),
                f"two operations are named `{name}`",
                "operationIds must stay unique once written in PascalCase",
            )
        return name

    def _idempotent(self, loc: Loc, method: str, op: dict[str, Any]) -> bool:
        flag = op.get("x-idempotent")
        if flag is None:
            return method.upper() in IDEMPOTENT_METHODS
        if not isinstance(flag, bool):
            raise self._fail((*loc, "x-idempotent"), "`x-idempotent` must be true or false")
        return flag

    def _request(self, name: str, loc: Loc, body: Any) -> str | None:
        if body is None:
            return None
        body, body_loc = self._deref(body, (*loc, "requestBody"))
        found = self._json_schema(body, body_loc)
        if found is None:
            raise self._fail(
                body_loc,
                "the request body has no application/json content",
                "scaffold imports JSON request bodies only",
            )
        return self._message(found[0], found[1], f"{name}Request")

    def _response(self, name: str, loc: Loc, responses: Any) -> str | None:
        if not isinstance(responses, dict):
            return None
        by_code = {str(code): (code, response) for code, response in responses.items()}
        for code in _SUCCESS_CODES:
            if code in by_code:
                key, response = by_code[code]
                response, response_loc = self._deref(response, (*loc, "responses", key))
                found = self._json_schema(response, response_loc)
                if found is not None:
                    return self._message(found[0], found[1], f"{name}Response")
        return None

    def _deref(self, node: Any, loc: Loc) -> tuple[Any, Loc]:
        """Follow local refs to reusable request bodies and responses."""
        for _ in range(20):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, loc
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise self._fail((*loc, "$ref"), f"external `$ref` to `{ref}` is not supported", _BUNDLE_HINT)
            target: Loc = tuple(_unescape(part) for part in ref[2:].split("/"))
            node, loc = self._pointer(target, (*loc, "$ref"), ref), target
        raise self._fail(loc, "`$ref` chain is too long or circular")

    def _pointer(self, target: Loc, at: Loc, ref: str) -> Any:
        node: Any = self.doc
        for part in target:
            if not isinstance(node, dict) or part not in node:
                raise self._fail(at, f"`$ref` to `{ref}` points at nothing", "check the name after the last `/`")
            node = node[part]
        return node

    def _json_schema(self, node: Any, loc: Loc) -> tuple[Any, Loc] | None:
        content = node.get("content") if isinstance(node, dict) else None
        if not isinstance(content, dict):
            return None
        for media, body in content.items():
            is_json = str(media).split(";")[0].strip().lower() == "application/json"
            if is_json and isinstance(body, dict) and "schema" in body:
                return body["schema"], (*loc, "content", media, "schema")
        return None

    def _message(self, schema: Any, loc: Loc, inline_name: str) -> str:
        """Name of the message a body schema stands for, importing it on first use."""
        if not isinstance(schema, dict):
            raise self._fail(loc, "a request or response schema must be a mapping")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = self._component_of(ref, (*loc, "$ref"))
            self._import_component(name)
            return name
        if inline_name in self.schemas:
            raise self._fail(
                loc,
                f"the inline schema would be named `{inline_name}`, a name components/schemas already uses",
                f"reference it with `$ref: '{_COMPONENT}{inline_name}'` or rename it",
            )
        description = schema.get("description") or schema.get("title") or ""
        self.messages[inline_name] = MessageDef(
            name=inline_name,
            description=str(description),
            schema=self._self_contained(schema, loc),
            origin=self.origin,
        )
        return inline_name

    def _component_of(self, ref: str, loc: Loc) -> str:
        """The component schema a `$ref` names, or a problem for refs scaffold does not follow."""
        if not ref.startswith("#"):
            raise self._fail(loc, f"external `$ref` to `{ref}` is not supported", _BUNDLE_HINT)
        if not ref.startswith(_COMPONENT):
            raise self._fail(loc, f"`$ref` to `{ref}` is not supported", f"refer to schemas under `{_COMPONENT}`")
        name = _unescape(ref[len(_COMPONENT) :].split("/")[0])
        if name not in self.schemas:
            raise self._fail(
                loc,
                f"`$ref` to `{ref}`: components/schemas has no `{name}`",
                "check the spelling of the schema name",
            )
        return name

    def _import_component(self, name: str) -> None:
        if name in self.messages:
            return
        component = self.schemas[name]
        self._check_name(name)
        if not isinstance(component, dict):
            raise self._fail(("components", "schemas", name), "a message schema must be a mapping")
        description = component.get("description") or component.get("title") or ""
        schema = self._self_contained(component, ("components", "schemas", name))
        self.messages[name] = MessageDef(name=name, description=str(description), schema=schema, origin=self.origin)

    def _self_contained(self, schema: dict[str, Any], loc: Loc) -> dict[str, Any]:
        """Convert ``schema`` and copy every component it reaches into its `$defs`."""
        refs: set[str] = set()
        out: dict[str, Any] = self._convert(schema, loc, refs)
        defs: dict[str, Any] = {}
        pending = sorted(refs)
        while pending:
            name = pending.pop(0)
            if name not in defs:
                found: set[str] = set()
                defs[name] = self._convert(self.schemas[name], ("components", "schemas", name), found)
                pending += sorted(found - defs.keys())
        if not defs:
            return out
        own = out.get("$defs", {})
        clash = sorted(set(own) & set(defs))
        if clash:
            raise self._fail(
                (*loc, "$defs"),
                f"`$defs` entry `{clash[0]}` clashes with the component schema it names",
                "rename the `$defs` entry",
            )
        return {**out, "$defs": dict(sorted({**own, **defs}.items()))}

    def _convert(self, node: Any, loc: Loc, refs: set[str]) -> Any:
        """A copy of a schema with component refs rewritten to `$defs` (and 3.0 idioms to 2020-12)."""
        if not isinstance(node, dict):
            return copy.deepcopy(node)  # `true` / `false` schemas (3.1)
        out: dict[str, Any] = {}
        for key, value in node.items():
            here = (*loc, key)
            if key == "$ref" and isinstance(value, str):
                out[key] = self._local_ref(value, here, refs)
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {k: self._convert(v, (*here, k), refs) for k, v in value.items()}
            elif (key in _SCHEMA_LISTS or key == "items") and isinstance(value, list):
                out[key] = [self._convert(v, (*here, i), refs) for i, v in enumerate(value)]
            elif key in _SCHEMA_ONE:
                out[key] = self._convert(value, here, refs)
            elif key == "discriminator" and isinstance(value, dict):
                out[key] = self._discriminator(value, here, refs)
            else:
                out[key] = copy.deepcopy(value)
        if self.legacy:
            out = _from_openapi30(out)
        return out

    def _local_ref(self, ref: str, loc: Loc, refs: set[str]) -> str:
        name = self._component_of(ref, loc)
        self._check_name(name)
        refs.add(name)
        return "#/$defs/" + ref[len(_COMPONENT) :]

    def _check_name(self, name: str) -> None:
        if not PASCAL.match(name):
            loc = ("components", "schemas", name)
            self._report(loc, f"schema name `{name}` is not PascalCase", PASCAL_HINT)

    def _discriminator(self, value: dict[str, Any], loc: Loc, refs: set[str]) -> dict[str, Any]:
        out = copy.deepcopy(value)
        mapping = out.get("mapping")
        if isinstance(mapping, dict):  # values are refs or bare schema names; only refs need rewriting
            for key, target in mapping.items():
                if isinstance(target, str) and target.startswith("#"):
                    mapping[key] = self._local_ref(target, (*loc, "mapping", key), refs)
        return out


def _from_openapi30(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite OpenAPI 3.0's dialect into JSON Schema 2020-12."""
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = schema.get(exclusive)
        if isinstance(flag, bool):  # 2020-12 wants the bound itself, not a flag
            del schema[exclusive]
            if flag and bound in schema:
                schema[exclusive] = schema.pop(bound)
    if schema.pop("nullable", False) is not True:
        return schema
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    if any(key in schema for key in ("$ref", "allOf", "anyOf", "oneOf")):
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def _unescape(part: str) -> str:
    """JSON Pointer escapes (RFC 6901)."""
    return part.replace("~1", "/").replace("~0", "~")
