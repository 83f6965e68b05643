"""Import an OpenAPI 3.0/3.1 document into operations and JSON Schema messages."""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from scaffold.errors import Problem, SpecInvalid
from scaffold.names import MODEL_IMPORTS, pascal
from scaffold.spec.contracts import HTTP_PATH, PASCAL, ImportedContract
from scaffold.spec.resolved import IDEMPOTENT_METHODS, NO_BODY, WHOLE_MESSAGE, MessageDef, OperationDef, ParamDef
from scaffold.spec.yaml_source import Loc, Source, parse_yaml, read_text

_YAML_STR = "tag:yaml.org,2002:str"
_HTTP_METHODS = ("get", "post", "put", "patch", "delete")
_ALL_METHODS = (*_HTTP_METHODS, "head", "options", "trace")
_PLACEHOLDER = re.compile(r"{([^{}/]+)}")
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


class _Skipped(Exception):
    """An operation cannot be imported; the warning that says why is already recorded."""


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
        # Component schemas become message classes: PascalCase names, unique, mapped back.
        self.names = _message_names(self.schemas)
        self.warnings: list[Problem] = []
        self.operations: dict[str, OperationDef] = {}
        self.messages: dict[str, MessageDef] = {}
        self.skipped: set[tuple[str, str]] = set()
        self.inlining: set[str] = set()  # local refs being inlined, to stop at a cycle

    def run(self) -> ImportedContract:
        paths = self.doc.get("paths")
        if paths is None or (isinstance(paths, dict) and not paths):
            self._warn(("paths",) if paths is not None else (), "the document has no paths: nothing to serve from it")
        elif not isinstance(paths, dict):
            raise SpecInvalid([self.source.problem(("paths",), "`paths` must be a mapping of paths to path items")])
        else:
            for http_path, item in paths.items():
                if not str(http_path).startswith("x-"):  # extensions, not paths
                    self._path_item(str(http_path), item)
        self._document_level_warnings()
        document = self._served_document()
        renamed = {new: old for old, new in self.names.items() if new != old}
        return ImportedContract(
            operations=self.operations,
            messages=dict(sorted(self.messages.items())),
            warnings=tuple(self.warnings),
            renamed=dict(sorted(renamed.items())),
            document=document,
        )

    # -- reporting --------------------------------------------------------------------------
    def _warn(self, loc: Loc, message: str, hint: str = "") -> None:
        self.warnings.append(self.source.problem(loc, message, hint))

    def _skip(self, loc: Loc, message: str, hint: str = "") -> _Skipped:
        """Record why the operation at ``loc`` is not imported; raise the result."""
        self._warn(loc, f"{message}; the operation is skipped", hint)
        return _Skipped()

    def _document_level_warnings(self) -> None:
        webhooks = self.doc.get("webhooks")
        if isinstance(webhooks, dict) and webhooks:
            self._warn(
                ("webhooks",),
                f"webhooks ({', '.join(sorted(map(str, webhooks)))}) are not generated from a contract",
                "declare each one as a `webhook` interaction of the spec to get a signed receiver",
            )
        prefixed = sorted({url for url in _server_urls(self.doc) if urlsplit(url).path.strip("/")})
        if prefixed:
            self._warn(
                ("servers",),
                f"the paths are served at the root, not under the base path of `servers` ({', '.join(prefixed)}); "
                "the served document lists `/` as its server",
                "route the base path to the service in a gateway, or move it into the paths",
            )
        components = self.doc.get("components")
        schemes = components.get("securitySchemes") if isinstance(components, dict) else None
        if isinstance(schemes, dict) and schemes:
            self._warn(
                ("components", "securitySchemes"),
                f"security schemes ({', '.join(sorted(map(str, schemes)))}) are served in the document "
                "but not enforced by the generated service",
                "check credentials in handlers.py or in a gateway in front of the service",
            )

    def _served_document(self) -> dict[str, Any]:
        """The contract without the operations that were skipped: what the service really serves."""
        document = copy.deepcopy(self.doc)
        paths = document.get("paths")
        if isinstance(paths, dict):
            for http_path in list(paths):
                item = paths[http_path]
                if str(http_path).startswith("x-") or not isinstance(item, dict):
                    continue
                for method in list(item):
                    if method in _ALL_METHODS and (str(http_path), method) in self.skipped | self.unserved:
                        del item[method]
                    elif method in _HTTP_METHODS and isinstance(item[method], dict):
                        self._served_body(item[method], ("paths", str(http_path), method))
                if not any(method in _ALL_METHODS for method in item):
                    del paths[http_path]
        # The service answers where it runs, at the root (see the warning about `servers`).
        if "servers" in document:
            document["servers"] = [{"url": "/"}]
        # The service enforces int32/int64 as bounds: the document says so, for its clients to know.
        _bound_integers(document)
        return document

    def _served_body(self, op: dict[str, Any], loc: Loc) -> None:
        """The request body as the service reads it: its JSON media types, or none."""
        if "requestBody" not in op:
            return
        body, _ = self._deref(op["requestBody"], (*loc, "requestBody"))
        content = body.get("content") if isinstance(body, dict) else None
        content = content if isinstance(content, dict) else {}
        json_content = {m: v for m, v in content.items() if _is_json(str(m))}
        if not json_content:
            del op["requestBody"]  # ignored, with a warning when it was imported
        elif json_content != content:
            others = ", ".join(f"`{m}`" for m in content if m not in json_content)
            self._warn((*loc, "requestBody", "content"), f"the request body is read as JSON only, not as {others}")
            op["requestBody"] = {**copy.deepcopy(body), "content": copy.deepcopy(json_content)}

    @property
    def unserved(self) -> set[tuple[str, str]]:
        paths = self.doc.get("paths")
        out: set[tuple[str, str]] = set()
        if isinstance(paths, dict):
            for http_path, item in paths.items():
                if isinstance(item, dict):
                    out |= {(str(http_path), m) for m in item if m in _ALL_METHODS and m not in _HTTP_METHODS}
        return out

    # -- paths and operations ---------------------------------------------------------------
    def _path_item(self, http_path: str, item: Any) -> None:
        loc: Loc = ("paths", http_path)
        if not isinstance(item, dict):
            self._warn(loc, "a path item must be a mapping of methods to operations; the path is skipped")
            return
        if "$ref" in item:
            self._warn((*loc, "$ref"), "path items with `$ref` are not supported; the path is skipped", _BUNDLE_HINT)
            for method in _ALL_METHODS:
                self.skipped.add((http_path, method))
            return
        for method, operation in item.items():
            if method in _HTTP_METHODS:
                try:
                    self._operation(http_path, method, operation, item.get("parameters"))
                except _Skipped:
                    self.skipped.add((http_path, method))
            elif method in _ALL_METHODS:
                self._warn((*loc, method), f"{method.upper()} operations are not generated; the operation is skipped")

    def _operation(self, http_path: str, method: str, op: Any, shared_params: Any) -> None:
        loc: Loc = ("paths", http_path, method)
        if not isinstance(op, dict):
            raise self._skip(loc, "an operation must be a mapping")
        if not HTTP_PATH.match(http_path):
            raise self._skip(
                ("paths", http_path),
                f"path `{http_path}` has characters scaffold cannot route",
                "use letters, digits, `-`, `_`, `.`, `/` and `{name}` placeholders",
            )
        placeholders = _PLACEHOLDER.findall(http_path)
        if len(set(placeholders)) != len(placeholders):
            raise self._skip(("paths", http_path), f"path `{http_path}` repeats a placeholder, which cannot be routed")
        name = self._operation_name(loc, http_path, method, op)
        params = self._params(loc, http_path, shared_params, op.get("parameters"))
        body = self._body(loc, op.get("requestBody"))
        status, response = self._response(name, loc, op.get("responses"))
        if isinstance(op.get("callbacks"), dict) and op["callbacks"]:
            self._warn((*loc, "callbacks"), "callbacks are not generated", "call them from handlers.py")
        request, body_field, body_required = self._request_message(name, loc, params, body)
        description = op.get("summary") or op.get("description") or ""
        self.operations[name] = OperationDef(
            name=name,
            description=" ".join(str(description).split()),
            request=request,
            response=response,
            idempotent=self._idempotent(loc, method, op),
            streaming="none",
            http_method=method.upper(),
            http_path=http_path,
            transports=frozenset({"rest"}),
            params=tuple(
                ParamDef(
                    name=p.name,
                    location=p.location,
                    field=p.field,
                    required=p.required,
                    schema=self._convert(self._resolved_schema(p.schema), p.loc, set()),
                    encoding=p.encoding,
                    separator=p.separator,
                )
                for p in params
            ),
            body=body_field,
            body_required=body_required,
            status=status,
        )

    def _operation_name(self, loc: Loc, http_path: str, method: str, op: dict[str, Any]) -> str:
        """PascalCase of the operationId, or one made from the method and path; unique."""
        operation_id = op.get("operationId")
        name = pascal(operation_id) if isinstance(operation_id, str) else ""
        if not PASCAL.match(name):
            name = pascal(f"{method} {http_path}") or method.capitalize()
            if not PASCAL.match(name):
                name = f"Op{name}"
        unique = name
        for n in itertools.count(2):
            if unique not in self.operations and unique not in self.names.values():
                break
            unique = f"{name}{n}"
        if unique != name and isinstance(operation_id, str):
            self._warn(
                (*loc, "operationId"),
                f"operationId `{operation_id}` is also another operation's name once in PascalCase; "
                f"it is named `{unique}`",
            )
        return unique

    def _idempotent(self, loc: Loc, method: str, op: dict[str, Any]) -> bool:
        flag = op.get("x-idempotent")
        if isinstance(flag, bool):
            return flag
        if flag is not None:
            self._warn((*loc, "x-idempotent"), "`x-idempotent` must be true or false; the method's default is used")
        return method.upper() in IDEMPOTENT_METHODS

    # -- parameters -------------------------------------------------------------------------
    def _params(self, loc: Loc, http_path: str, shared: Any, own: Any) -> list[_Param]:
        """Path-level parameters overridden by the operation's own (same name and location)."""
        by_key: dict[tuple[str, str], _Param] = {}
        for where, params in ((("paths", http_path, "parameters"), shared), ((*loc, "parameters"), own)):
            if params is None:
                continue
            if not isinstance(params, list):
                raise self._skip(where, "`parameters` must be a list")
            for index, raw in enumerate(params):
                param = self._param(loc, raw, (*where, index))
                if param is not None:
                    by_key[(param.location, param.name)] = param
        placeholders = _PLACEHOLDER.findall(http_path)
        for placeholder in placeholders:
            if ("path", placeholder) not in by_key:
                self._warn(
                    loc,
                    f"path parameter `{placeholder}` is not declared; it is read as a string",
                    "declare it under `parameters` with `in: path`",
                )
                by_key[("path", placeholder)] = _Param(placeholder, "path", True, {"type": "string"}, "plain", loc)
        for (location, param_name), param in list(by_key.items()):
            if location == "path" and param_name not in placeholders:
                self._warn(param.loc, f"path parameter `{param_name}` is not in the path `{http_path}`; it is ignored")
                del by_key[(location, param_name)]
        return sorted(by_key.values(), key=lambda p: (_LOCATIONS.index(p.location), p.name))

    def _param(self, op_loc: Loc, raw: Any, loc: Loc) -> _Param | None:
        param, loc = self._deref(raw, loc)
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            raise self._skip(loc, "a parameter must be a mapping with a `name`")
        name, location = param["name"], param.get("in")
        if location not in _LOCATIONS:
            raise self._skip((*loc, "in"), f"parameter `{name}`: `in: {location}` is not a parameter location")
        if location == "header" and name.lower() in _IGNORED_HEADERS:
            # OpenAPI 3: "If in is header and the name field is Accept, Content-Type or Authorization,
            # the parameter definition SHALL be ignored."
            self._warn(loc, f"header parameter `{name}` is ignored, as OpenAPI says")
            return None
        required = param.get("required") is True or location == "path"
        encoding, separator = "plain", ""
        if "content" in param:
            found = self._json_schema(param, loc)
            if found is None:
                self._unsupported(loc, name, required, "its `content` has no JSON media type")
                return None
            schema, encoding = found[0], "json"
        else:
            schema = param.get("schema", {})
            problem, separator = _style_of(location, param, self._resolved_schema(schema))
            if problem:
                self._unsupported(loc, name, required, problem)
                return None
        if not isinstance(schema, (dict, bool)):
            self._unsupported(loc, name, required, "its schema is not a mapping")
            return None
        return _Param(name, location, required, schema if isinstance(schema, dict) else {}, encoding, loc, separator)

    def _unsupported(self, loc: Loc, name: str, required: bool, why: str) -> None:
        if required:
            raise self._skip(loc, f"required parameter `{name}` cannot be read: {why}")
        self._warn(loc, f"parameter `{name}` is not supported and is ignored: {why}")

    def _resolved_schema(self, schema: Any) -> Any:
        """The schema behind component refs (to judge its type), or the schema itself."""
        for _ in range(20):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not (isinstance(ref, str) and ref.startswith(_COMPONENT)):
                return schema
            schema = self.schemas.get(_unescape(ref[len(_COMPONENT) :].split("/")[0]), {})
        return schema

    # -- bodies -----------------------------------------------------------------------------
    def _body(self, loc: Loc, body: Any) -> tuple[Any, Loc, bool] | None:
        """The JSON schema of the request body, where it is, and whether the body is required."""
        if body is None:
            return None
        body, body_loc = self._deref(body, (*loc, "requestBody"))
        if not isinstance(body, dict):
            raise self._skip(body_loc, "a request body must be a mapping")
        found = self._json_schema(body, body_loc)
        required = body.get("required") is True
        if found is None:
            media = ", ".join(f"`{m}`" for m in body.get("content") or {}) or "none"
            if not required:
                self._warn(body_loc, f"the optional request body is not JSON ({media}) and is ignored")
                return None
            raise self._skip(
                body_loc,
                f"the request body is not JSON (media types: {media})",
                "scaffold generates JSON request bodies only; write this operation in handlers.py by hand",
            )
        return found[0], found[1], required

    def _request_message(
        self, name: str, loc: Loc, params: list[_Param], body: tuple[Any, Loc, bool] | None
    ) -> tuple[str | None, str, bool]:
        """The request message and where the body is in it (see OperationDef.body)."""
        if not params:
            if body is None:
                return None, NO_BODY, True
            schema, body_loc, required = body
            if required:
                return self._message(schema, body_loc, self._free_name(f"{name}Request")), WHOLE_MESSAGE, True
        # Parameters (and an optional body) make one message, one property each.
        refs: set[str] = set()
        properties: dict[str, Any] = {}
        required_props: list[str] = []
        for param in params:
            param.field = param.name if param.name not in properties else f"{param.name}_{param.location}"
            schema_loc = (*param.loc, "content" if param.encoding == "json" else "schema")
            properties[param.field] = self._convert(param.schema, schema_loc, refs)
            if param.required:
                required_props.append(param.field)
        body_field = NO_BODY
        body_required = True
        if body is not None:
            schema, body_loc, body_required = body
            body_field = next(f for f in ("body", "requestBody", "body_") if f not in properties)
            properties[body_field] = self._convert(schema, body_loc, refs)
            if body_required:
                required_props.append(body_field)
        wrapper: dict[str, Any] = {"type": "object", "properties": properties}
        if required_props:
            wrapper["required"] = required_props
        message = self._free_name(f"{name}Request")
        self.messages[message] = MessageDef(
            name=message,
            description="",
            schema=self._with_defs(wrapper, refs, loc),
            origin=self.origin,
        )
        return message, body_field, body_required

    def _free_name(self, name: str) -> str:
        taken = set(self.names.values()) | set(self.messages) | set(self.operations)
        unique = name
        for n in itertools.count(2):
            if unique not in taken:
                return unique
            unique = f"{name}{n}"
        raise AssertionError("unreachable")

    # -- responses --------------------------------------------------------------------------
    def _response(self, name: str, loc: Loc, responses: Any) -> tuple[int, str | None]:
        """The success status and its JSON message (lowest 2xx, else `default`)."""
        if not isinstance(responses, dict):
            return 200, None
        by_code = {str(code): code for code in responses}
        success = sorted(code for code in by_code if re.fullmatch(r"2\d\d", code))
        fallback = [code for code in ("2XX", "default") if code in by_code]
        chosen = (success or fallback or [None])[0]
        if chosen is None:
            return 200, None
        status = int(chosen) if chosen.isdigit() else 200
        response, response_loc = self._deref(responses[by_code[chosen]], (*loc, "responses", by_code[chosen]))
        content = response.get("content") if isinstance(response, dict) else None
        if not content or status in (204, 205, 304):
            return status, None
        found = self._json_schema(response, response_loc) or self._wildcard_schema(content, response_loc)
        if found is None:
            media = ", ".join(f"`{m}`" for m in content)
            raise self._skip(
                response_loc,
                f"the {chosen} response is not JSON (media types: {media})",
                "scaffold generates JSON responses only; write this operation in handlers.py by hand",
            )
        return status, self._message(found[0], found[1], self._free_name(f"{name}Response"))

    # -- references and schemas -------------------------------------------------------------
    def _deref(self, node: Any, loc: Loc) -> tuple[Any, Loc]:
        """Follow local refs to reusable parameters, request bodies and responses."""
        for _ in range(20):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, loc
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise self._skip((*loc, "$ref"), f"external `$ref` to `{ref}` is not supported", _BUNDLE_HINT)
            target: Loc = tuple(_unescape(part) for part in ref[2:].split("/"))
            node, loc = self._pointer(target, (*loc, "$ref"), ref), target
        raise self._skip(loc, "`$ref` chain is too long or circular")

    def _pointer(self, target: Loc, at: Loc, ref: str) -> Any:
        node: Any = self.doc
        for part in target:
            if isinstance(node, list) and isinstance(part, str) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise self._skip(at, f"`$ref` to `{ref}` points at nothing", "check the name after the last `/`")
        return node

    def _wildcard_schema(self, content: Any, loc: Loc) -> tuple[Any, Loc] | None:
        """The schema of a `*/*` (or `application/*`) response that is not binary: JSON satisfies it,
        and springdoc, for one, writes `*/*` for every JSON response."""
        if not isinstance(content, dict):
            return None
        for media, body in content.items():
            if str(media).split(";")[0].strip() in ("*/*", "application/*") and isinstance(body, dict):
                schema = body.get("schema")
                resolved = self._resolved_schema(schema)
                binary = isinstance(resolved, dict) and resolved.get("format") == "binary"
                if isinstance(schema, dict) and schema and not binary:
                    return schema, (*loc, "content", media, "schema")
        return None

    def _json_schema(self, node: Any, loc: Loc) -> tuple[Any, Loc] | None:
        content = node.get("content") if isinstance(node, dict) else None
        if not isinstance(content, dict):
            return None
        for media, body in content.items():
            if _is_json(str(media)) and isinstance(body, dict):
                return body.get("schema", {}), (*loc, "content", media, "schema")
        return None

    def _message(self, schema: Any, loc: Loc, inline_name: str) -> str:
        """Name of the message a body schema stands for, importing it on first use."""
        if isinstance(schema, bool):
            schema = {} if schema else {"not": {}}
        if not isinstance(schema, dict):
            raise self._skip(loc, "a request or response schema must be a mapping")
        ref = schema.get("$ref")
        whole_component = isinstance(ref, str) and ref.startswith(_COMPONENT) and "/" not in ref[len(_COMPONENT) :]
        if isinstance(ref, str) and whole_component and set(schema) == {"$ref"}:
            original = self._component_of(ref, (*loc, "$ref"))
            name = self.names[original]
            self._import_component(original)
            return name
        description = schema.get("description") or schema.get("title") or ""
        self.messages[inline_name] = MessageDef(
            name=inline_name,
            description=str(description),
            schema=self._self_contained(schema, loc),
            origin=self.origin,
        )
        return inline_name

    def _component_of(self, ref: str, loc: Loc) -> str:
        """The component schema a `$ref` names (its name in the contract)."""
        if not ref.startswith("#"):
            raise self._skip(loc, f"external `$ref` to `{ref}` is not supported", _BUNDLE_HINT)
        if not ref.startswith(_COMPONENT):
            raise self._skip(loc, f"`$ref` to `{ref}` is not supported", f"refer to schemas under `{_COMPONENT}`")
        name = _unescape(ref[len(_COMPONENT) :].split("/")[0])
        if name not in self.schemas:
            raise self._skip(
                loc,
                f"`$ref` to `{ref}`: components/schemas has no `{name}`",
                "check the spelling of the schema name",
            )
        return name

    def _import_component(self, original: str) -> None:
        name = self.names[original]
        if name in self.messages:
            return
        component = self.schemas[original]
        loc: Loc = ("components", "schemas", original)
        if isinstance(component, bool):
            component = {} if component else {"not": {}}
        if not isinstance(component, dict):
            raise self._skip(loc, "a message schema must be a mapping")
        description = component.get("description") or component.get("title") or ""
        schema = self._self_contained(component, loc)
        self.messages[name] = MessageDef(name=name, description=str(description), schema=schema, origin=self.origin)

    def _self_contained(self, schema: dict[str, Any], loc: Loc) -> dict[str, Any]:
        """Convert ``schema`` and copy every component it reaches into its `$defs`."""
        refs: set[str] = set()
        return self._with_defs(self._convert(schema, loc, refs), refs, loc)

    def _with_defs(self, out: dict[str, Any], refs: set[str], loc: Loc) -> dict[str, Any]:
        """``out`` with every component it (transitively) refers to copied into its `$defs`."""
        defs: dict[str, Any] = {}
        pending = sorted(refs)
        while pending:
            original = pending.pop(0)
            name = self.names[original]
            if name not in defs:
                found: set[str] = set()
                defs[name] = self._convert(self.schemas[original], ("components", "schemas", original), found)
                pending += sorted(found - {o for o in self.names if self.names[o] in defs})
        if not defs:
            return out
        own = out.get("$defs", {})
        clash = sorted(set(own) & set(defs))
        if clash:
            raise self._skip(
                (*loc, "$defs"),
                f"`$defs` entry `{clash[0]}` clashes with the component schema it names",
                "rename the `$defs` entry",
            )
        return {**out, "$defs": dict(sorted({**own, **defs}.items()))}

    def _convert(self, node: Any, loc: Loc, refs: set[str]) -> Any:
        """A copy of a schema with component refs rewritten to `$defs` (and 3.0 idioms to 2020-12)."""
        if not isinstance(node, dict):
            return copy.deepcopy(node)  # `true` / `false` schemas (3.1)
        ref = node.get("$ref")
        # A ref outside components/schemas, or into the inside of a component (datamodel-code-generator
        # resolves `#/$defs/Name` only): its target is copied in place.
        if (
            isinstance(ref, str)
            and ref.startswith("#/")
            and (not ref.startswith(_COMPONENT) or "/" in ref[len(_COMPONENT) :])
        ):
            return self._inlined(node, ref, loc, refs)
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
        # Boolean exclusive bounds are 3.0's; 3.1 documents written the old way still mean them.
        out = _exclusive_bounds(out)
        if self.legacy:
            out = _from_openapi30(out)
        return _integer_bounds(out)

    def _inlined(self, node: dict[str, Any], ref: str, loc: Loc, refs: set[str]) -> Any:
        """A local `$ref` outside components/schemas (to a parameter's schema, say) or into a component
        (`#/components/schemas/Channel/properties/from`): its target, converted in its place. In 3.1 the
        keywords beside the `$ref` apply too; 3.0 ignores them."""
        if ref in self.inlining:
            raise self._skip(
                (*loc, "$ref"), f"`$ref` to `{ref}` refers to itself", f"move the schema under `{_COMPONENT}`"
            )
        target: Loc = tuple(_unescape(part) for part in ref[2:].split("/"))
        found = self._pointer(target, (*loc, "$ref"), ref)
        self.inlining.add(ref)
        try:
            out = self._convert(found, target, refs)
        finally:
            self.inlining.discard(ref)
        beside = {key: value for key, value in node.items() if key != "$ref"}
        if self.legacy or not beside:
            return out
        converted = self._convert(beside, loc, refs)
        return {**converted, "allOf": [out, *converted.get("allOf", [])]}

    def _local_ref(self, ref: str, loc: Loc, refs: set[str]) -> str:
        original = self._component_of(ref, loc)
        refs.add(original)
        rest = ref[len(_COMPONENT) :].split("/", 1)
        return "#/$defs/" + "/".join([self.names[original], *rest[1:]])

    def _discriminator(self, value: dict[str, Any], loc: Loc, refs: set[str]) -> dict[str, Any]:
        out = copy.deepcopy(value)
        mapping = out.get("mapping")
        if isinstance(mapping, dict):  # values are refs or bare schema names
            for key, target in mapping.items():
                if isinstance(target, str) and target.startswith("#"):
                    mapping[key] = self._local_ref(target, (*loc, "mapping", key), refs)
                elif isinstance(target, str) and target in self.names:
                    mapping[key] = self.names[target]
        return out


class _Param:
    """A parameter while its operation is imported (mutable: its field is set last)."""

    def __init__(
        self, name: str, location: str, required: bool, schema: Any, encoding: str, loc: Loc, separator: str = ""
    ) -> None:
        self.name, self.location, self.required = name, location, required
        self.schema, self.encoding, self.loc, self.separator = schema, encoding, loc, separator
        self.field = name


_LOCATIONS = ("path", "query", "header", "cookie")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_DEFAULT_STYLE = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}
_PRIMITIVES = frozenset({"string", "integer", "number", "boolean"})


# The separator of an array sent as one value, by `style` (OpenAPI 3.1 "Style Values").
_SEPARATORS = {"form": ",", "simple": ",", "pipeDelimited": "|", "spaceDelimited": " "}


def _style_of(location: str, param: dict[str, Any], schema: Any) -> tuple[str | None, str]:
    """Why a `schema` parameter cannot be read (None for the shapes scaffold supports), and the
    separator of an array sent as one value ("" when a query array repeats its parameter).

    Supported: primitive values in every location; arrays of primitives as repeated query
    parameters (the default `style: form, explode: true`), as one query value (`form` with
    `explode: false`, `pipeDelimited`, `spaceDelimited`) and as one path or header value
    (`simple`).
    """
    style = param.get("style", _DEFAULT_STYLE[location])
    explode = param.get("explode", style == "form")
    kind = _types_of(schema)
    if kind & {"object"}:
        return "object values are not supported; send them as JSON with `content: application/json`", ""
    if "array" in kind:
        items = schema.get("items") if isinstance(schema, dict) else None
        if _types_of(items) - _PRIMITIVES - {"null"}:
            return "arrays of arrays or objects are not supported", ""
        if location == "query" and style == "form" and explode is True:
            return None, ""
        if (location == "query" and style in ("form", "pipeDelimited", "spaceDelimited")) or (
            location in ("path", "header") and style == "simple"
        ):
            return None, _SEPARATORS[style]
        return f"arrays in `{location}` with `style: {style}` are not supported", ""
    if style != _DEFAULT_STYLE[location]:
        return f"`style: {style}` is not supported here (only `{_DEFAULT_STYLE[location]}`)", ""
    return None, ""


def _types_of(schema: Any) -> set[str]:
    if not isinstance(schema, dict):
        return set()
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    if "properties" in schema:
        return {"object"}
    if "items" in schema:
        return {"array"}
    return set()


def _is_json(media: str) -> bool:
    """`application/json`, with parameters or a `+json` structured suffix (RFC 6839), as FastAPI reads them."""
    main = media.split(";")[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def _message_names(schemas: dict[str, Any]) -> dict[str, str]:
    """A PascalCase message name for each component schema, unique, in document order."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for original in schemas:
        original = str(original)
        base = original if PASCAL.match(original) else pascal(original)
        if not PASCAL.match(base):
            base = f"Schema{base}"
        if base in MODEL_IMPORTS:  # `Field`, `Enum`...: names the models module imports
            base = f"{base}Message"
        name = base
        for n in itertools.count(2):
            if name not in taken:
                break
            name = f"{base}{n}"
        out[original] = name
        taken.add(name)
    return out


_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _integer_bounds(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI's int32/int64 formats as the bounds JSON Schema validators enforce."""
    bounds = _INT_BOUNDS.get(str(schema.get("format")))
    kind = schema.get("type")
    if bounds is None or not (kind == "integer" or (isinstance(kind, list) and "integer" in kind)):
        return schema
    if "minimum" not in schema and "exclusiveMinimum" not in schema:
        schema["minimum"] = bounds[0]
    if "maximum" not in schema and "exclusiveMaximum" not in schema:
        schema["maximum"] = bounds[1]
    return schema


def _server_urls(doc: dict[str, Any]) -> list[str]:
    """The URLs of the document's `servers`, variables replaced by their defaults."""
    servers = doc.get("servers")
    urls = []
    for server in servers if isinstance(servers, list) else []:
        if isinstance(server, dict) and isinstance(server.get("url"), str):
            url = server["url"]
            variables = server.get("variables")
            for name, variable in (variables if isinstance(variables, dict) else {}).items():
                if isinstance(variable, dict) and "default" in variable:
                    url = url.replace("{" + str(name) + "}", str(variable["default"]))
            urls.append(url)
    return urls


def _bound_integers(node: Any) -> None:
    """Apply :func:`_integer_bounds` to every schema in a document, in place."""
    if isinstance(node, dict):
        _integer_bounds(node)
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


def _from_openapi30(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite OpenAPI 3.0's `nullable` into JSON Schema 2020-12."""
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


def _exclusive_bounds(schema: dict[str, Any]) -> dict[str, Any]:
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = schema.get(exclusive)
        if isinstance(flag, bool):  # 2020-12 wants the bound itself, not a flag
            del schema[exclusive]
            if flag and bound in schema:
                schema[exclusive] = schema.pop(bound)
    return schema


def _unescape(part: str) -> str:
    """JSON Pointer escapes (RFC 6901)."""
    return part.replace("~1", "/").replace("~0", "~")
