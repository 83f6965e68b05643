"""Each service's slice of the plan: plain data a copier template renders as one project.

Pure: spec and plan in, JSON-ready dicts out, in a stable order (so output is byte-for-byte
deterministic and `copier update` sees no spurious changes).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from typing import Any

from scaffold import __version__, names
from scaffold.plan.defaults import lookup, schedule_text, value
from scaffold.plan.model import Plan, PlannedInteraction
from scaffold.plan.proto import proto_model
from scaffold.plan.rest import binding
from scaffold.plan.samples import counterexample, sample
from scaffold.proto_files import Layout, PyModule, layout, requirement
from scaffold.spec.resolved import Endpoint, LoadedSpec, OperationDef
from scaffold.spec.schema_bounds import DATA_KEYWORDS

# What unary and streaming gRPC links share; they differ only in how a call is bounded in time.
_GRPC_RETRY_AND_GUARDS: tuple[tuple[str, str], ...] = (
    ("max_attempts", "GrpcAttempts"),
    ("backoff_initial_ms", "PositiveMs"),
    ("backoff_max_ms", "PositiveMs"),
    ("backoff_multiplier", "Multiplier"),
    ("retryable_status_codes", "tuple[str, ...]"),
    ("retry_throttling_max_tokens", "Count"),
    ("retry_throttling_token_ratio", "Ratio"),
    ("breaker_failure_threshold", "Count"),
    ("breaker_recovery_ms", "PositiveMs"),
    ("concurrency_limit", "Count"),
)

# The settings each kind of link exposes in a generated service, with their Python types.
SETTINGS_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "rest": (
        ("attempt_timeout_ms", "PositiveMs"),
        ("total_timeout_ms", "PositiveMs"),
        ("max_attempts", "Attempts"),
        ("backoff_initial_ms", "PositiveMs"),
        ("backoff_max_ms", "PositiveMs"),
        ("idempotency_key", "bool"),
        ("breaker_failure_threshold", "Count"),
        ("breaker_recovery_ms", "PositiveMs"),
        ("concurrency_limit", "Count"),
        ("max_connections", "Count"),
        ("max_keepalive_connections", "Count"),
    ),
    "grpc": (("total_timeout_ms", "PositiveMs"), *_GRPC_RETRY_AND_GUARDS),
    "grpc-stream": (("stream_idle_timeout_ms", "PositiveMs"), *_GRPC_RETRY_AND_GUARDS),
    "webhook-inbound": (("tolerance_s", "PositiveS"),),
    "webhook-outbound": (("attempt_timeout_ms", "PositiveMs"), ("send_schedule_s", "Schedule")),
    "stream-consume": (
        ("retry_delays_ms", "Delays"),
        ("handler_timeout_ms", "PositiveMs"),
        ("buffer_per_partition", "Count"),
    ),
    "queue-publish": (
        ("confirm_window", "Count"),
        ("publish_timeout_ms", "PositiveMs"),
        ("publish_deadline_ms", "PositiveMs"),
    ),
    "queue-consume": (("prefetch", "Count"), ("handler_timeout_ms", "PositiveMs")),
}

# The Kafka broker a generated service connects to unless its settings say otherwise (the broker's
# default listener on loopback).
KAFKA_BOOTSTRAP_DEFAULT = "127.0.0.1:9092"
# What a service's one producer takes from the plan; the same for every stream link.
_PRODUCER_KEYS = ("acks", "enable_idempotence", "max_in_flight", "linger_ms", "delivery_timeout_ms", "partitioner")
_TOPIC_KEYS = ("partitions", "replication_factor", "min_insync_replicas")

# The broker a generated service connects to unless its settings say otherwise: RabbitMQ's own
# defaults (port 5672, user guest, which RabbitMQ admits from loopback only).
AMQP_URL_DEFAULT = "amqp://guest:guest@127.0.0.1:5672/"

# gRPC methods always carry a message; operations without one get this empty message.
EMPTY = "Empty"
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}, "description": "No content."}

HTTP_PORT_BASE = 8000
GRPC_PORT_BASE = 50051


def service_slices(spec: LoadedSpec, plan: Plan) -> list[dict[str, Any]]:
    """One slice per service of the system, sorted by name."""
    ports = {name: i for i, name in enumerate(sorted(spec.services))}
    grpc_exposed = {
        name: _exposure(spec.endpoints[name], [p for p in plan.interactions if p.to == name])[1]
        for name in spec.services
    }
    return [_slice(spec, plan, spec.endpoints[name], ports, grpc_exposed) for name in sorted(spec.services)]


def _slice(
    spec: LoadedSpec,
    plan: Plan,
    service: Endpoint,
    ports: dict[str, int],
    grpc_exposed: dict[str, list[OperationDef]],
) -> dict[str, Any]:
    inbound = [p for p in plan.interactions if p.to == service.name]
    outbound = [p for p in plan.interactions if p.from_ == service.name]
    rest_ops, grpc_ops = _exposure(service, inbound)
    used_messages = _messages_used(spec, service, rest_ops + grpc_ops, inbound, outbound)
    package = names.snake(service.name)
    proto_owners, proto_reserved = _proto_owners(spec, service, grpc_ops, outbound)
    protos = layout(
        {name: (spec.endpoints[name].proto_descriptor, spec.endpoints[name].proto_main) for name in proto_owners},
        reserved=proto_reserved,
    )
    grpc = None
    if grpc_ops:
        grpc = _proto_identity(spec, service, grpc_ops, protos)
        grpc["operations"] = [_grpc_op(spec, op, grpc) for op in grpc_ops]
    grpc_clients = _clients(spec, outbound, "grpc", ports, grpc_exposed, protos)
    consumes = _consumers(spec, service, inbound, rest_ops + grpc_ops)
    return {
        "name": service.name,
        "package": package,
        "class_name": names.pascal(service.name),
        "description": service.description,
        "description_line": doc_text(service.description),
        "system": spec.name,
        "scaffold_version": __version__,
        "http_port": HTTP_PORT_BASE + ports[service.name],
        "grpc_port": GRPC_PORT_BASE + ports[service.name],
        "env_prefix": package.upper() + "_",
        "operations": [_operation(spec, op) for op in _unique(rest_ops + grpc_ops)],
        "rest_operations": [_rest_operation(spec, op) for op in sorted(rest_ops, key=_route_precedence)],
        "route_guards": route_guards([_rest_operation(spec, op) for op in rest_ops]),
        "openapi_contract": _serves_contract(service, rest_ops),
        # Non-idempotent REST operations replay their reply for a retried Idempotency-Key.
        "idempotency": (
            {"ttl_s": value("rest", "idempotency_key_ttl_s")} if any(not op.idempotent for op in rest_ops) else None
        ),
        "grpc": grpc,
        **_distinct_clients(_clients(spec, outbound, "rest", ports, grpc_exposed, protos), grpc_clients),
        # Modules of protobuf messages the clients use (one import each), and those of every
        # contract of the service (for its tests); googleapis-common-protos when they need it.
        "client_pb_imports": _union(c["pb_imports"] for c in grpc_clients),
        "pb_imports": _union([c["pb_imports"] for c in grpc_clients] + ([grpc["pb_imports"]] if grpc else [])),
        # Packages of those modules whose .pyi stubs mypy must be told to read.
        "untyped_pb_packages": sorted(
            {m["package"] for c in grpc_clients + ([grpc] if grpc else []) for m in c["pb_imports"] if m["untyped"]}
        ),
        "proto_requirements": [
            requirement(d) for d in sorted(protos.distributions - {"grpcio-health-checking", "grpcio-reflection"})
        ],
        "proto_owners": proto_owners,
        "proto_reserved": proto_reserved,
        "webhooks_in": [_webhook(spec, p, inbound=True) for p in inbound if p.pattern == "webhook"],
        "webhooks_out": [_webhook(spec, p, inbound=False) for p in outbound if p.pattern == "webhook"],
        "publishes": [_async_link(spec, p) for p in outbound if p.pattern in ("queue", "stream")],
        "consumes": consumes,
        **_store(package, inbound, outbound),
        "streams": _streams(spec, inbound, outbound),
        "publish_channels": _publish_channels(spec, outbound),
        "amqp": _amqp() if any(p.pattern == "queue" for p in inbound + outbound) else None,
        "inbound": _inbound_deadline(spec, inbound),
        "links": [_link_summary(p, service.name) for p in plan.interactions if service.name in (p.from_, p.to)],
        "messages": used_messages,
        # pydantic checks `format: email` with the email-validator package.
        "email_validator": _uses_email([_schema_of(spec, m) for m in used_messages]),
        "sources": _sources(spec, service.name, used_messages, proto_owners, _serves_contract(service, rest_ops)),
    }


def _sources(
    spec: LoadedSpec, service: str, messages: list[str], proto_owners: list[str], serves_openapi: bool
) -> dict[str, Any]:
    """The contract text a service's generated code is made from, kept in its copier answers so that
    `copier update` renders the old copy, the project and the new copy from the same inputs.

    Kept as text (JSON, base64) rather than as YAML structures: text survives the answers file's
    YAML round trip byte for byte."""
    schemas = message_schemas(spec)
    descriptors = {}
    for owner in proto_owners:
        endpoint = spec.endpoints[owner]
        if endpoint.proto_descriptor:
            descriptors[owner] = {
                "main": endpoint.proto_main,
                "descriptor": base64.b64encode(endpoint.proto_descriptor).decode("ascii"),
            }
    return {
        "message_schemas": json.dumps({name: schemas[name] for name in messages}, ensure_ascii=True),
        "proto_descriptors": descriptors,
        "openapi": (served_contract(spec, service) or "") if serves_openapi else "",
    }


def _amqp() -> dict[str, Any]:
    """The RabbitMQ connection: its default address, and how the start-up retries while it is down."""
    return {
        "url": AMQP_URL_DEFAULT,
        "connect_backoff_initial_ms": lookup("queue", "connect_backoff_initial_ms").value,
        "connect_backoff_max_ms": lookup("queue", "connect_backoff_max_ms").value,
    }


_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def doc_text(text: str, limit: int = 200) -> str:
    """``text`` made safe for one line of a docstring or comment: no line breaks, no quotes that
    could close the string, no backslash escapes, bounded length."""
    line = _LINE_BREAKS.sub(" ", text).replace("\\", "/").replace('"', "'").strip()
    if len(line) > limit:
        line = line[: limit - 3].rstrip() + "..."
    return line


def settings_fields(kind: str, use_case: str, resilience: dict[str, Any]) -> list[dict[str, str]]:
    """The link's settings as Python source: name, type, default value and the source it cites.

    Values fitted by the plan (timeouts shared out along a chain) say so next to their source.
    """
    pattern, _, direction = kind.partition("-")
    variant = direction if pattern == "webhook" else use_case
    out = []
    for key, type_ in SETTINGS_FIELDS[kind]:
        value = resilience[key]
        py = repr(tuple(value)) if isinstance(value, list) else repr(value)
        try:
            which = variant
            if key == "retryable_status_codes":
                which = "idempotent" if resilience.get("idempotent") else "not idempotent"
            default = lookup(pattern, key, which)
            source = default.source
            if default.value != value:
                source = f"planned {py} (default {default.value!r}: {source})"
        except KeyError:
            source = "fitted by the plan"
        out.append({"name": key, "type": type_, "value_py": py, "source": doc_text(source, limit=400)})
    return out


def _inbound_deadline(spec: LoadedSpec, inbound: list[PlannedInteraction]) -> dict[str, Any]:
    """The deadline a service's server gives every request it serves.

    Its callers wait at most their planned total timeout, so no request is worth working on longer
    than the longest of them; a request without a deadline header (a browser's) gets that budget.
    A service called from outside the system (an edge) ignores its callers' deadline header: only
    callers inside the system are trusted to send one.
    """
    sync = [p for p in inbound if p.synchronous]
    trusted = all(spec.endpoints[p.from_].is_service for p in sync)
    sync = [p for p in sync if "total_timeout_ms" in p.resilience]  # streams have no deadline
    if sync:
        budget = max(int(p.resilience["total_timeout_ms"]) for p in sync)
        callers = ", ".join(sorted({p.id for p in sync}))
        source = f"the longest total timeout of its callers ({callers})"
    else:
        default = lookup("rest", "total_timeout_ms", "other")
        budget, source = int(default.value), f"nobody calls it yet; {default.source}"
    return {
        "timeout_ms": budget,
        "timeout_source": doc_text(source, limit=400),
        "trust_deadline_header": trusted,
    }


def _unique(ops: list[OperationDef]) -> list[OperationDef]:
    seen: dict[str, OperationDef] = {}
    for op in ops:
        seen.setdefault(op.name, op)
    return list(seen.values())


def with_empty(op: OperationDef) -> OperationDef:
    """``op`` as gRPC sees it: a missing request or response becomes the empty message."""
    if op.request and op.response:
        return op
    return replace(op, request=op.request or EMPTY, response=op.response or EMPTY)


def message_schemas(spec: LoadedSpec) -> dict[str, dict[str, Any]]:
    """Every message's JSON Schema, with the empty message unless the spec defines its own."""
    return {EMPTY: EMPTY_SCHEMA, **{name: m.schema for name, m in spec.messages.items()}}


def _exposure(service: Endpoint, inbound: list[PlannedInteraction]) -> tuple[list[OperationDef], list[OperationDef]]:
    """Which operations the service serves over REST and over gRPC.

    An operation is offered on every transport its callers were planned on. One nobody calls
    yet is offered on REST if it can be (unary, REST allowed), else on gRPC.
    """
    by_op: dict[str, set[str]] = {}
    for p in inbound:
        if p.operation and p.pattern in ("rest", "grpc"):
            by_op.setdefault(p.operation, set()).add(p.pattern)
    rest, grpc = [], []
    for op in service.operations.values():
        transports = by_op.get(op.name)
        if transports is None:
            unary_rest = op.streaming == "none" and "rest" in op.transports
            transports = {"rest"} if unary_rest else {"grpc"}
        if "grpc" in transports:
            # One handler serves both transports, so both see the same messages.
            op = with_empty(op)
            grpc.append(op)
        if "rest" in transports and op.streaming == "none":
            rest.append(op)
    return rest, grpc


def _schema_of(spec: LoadedSpec, message: str | None) -> dict[str, Any]:
    if message is None:
        return EMPTY_SCHEMA
    return message_schemas(spec)[message]


def _operation(spec: LoadedSpec, op: OperationDef) -> dict[str, Any]:
    return {
        "name": op.name,
        "snake": names.function(op.name),
        "description_line": doc_text(op.description),
        "streaming": op.streaming,
        "request": op.request,
        "response": op.response,
        "idempotent": op.idempotent,
        "sample_request_py": repr(sample(_schema_of(spec, op.request))) if op.request else "None",
        "sample_response_py": repr(sample(_schema_of(spec, op.response))) if op.response else "None",
    }


def _rest_operation(spec: LoadedSpec, op: OperationDef) -> dict[str, Any]:
    schema = _schema_of(spec, op.request) if op.request else {}
    return {
        "name": op.name,
        "snake": names.function(op.name),
        "method": op.http_method,
        "path": op.http_path,
        **binding(op, schema),
        "request": op.request,
        "response": op.response,
        "idempotent": op.idempotent,
        "sample_request_py": repr(sample(schema)) if op.request else "None",
        "sample_response_py": repr(sample(_schema_of(spec, op.response))) if op.response else "None",
    }


def _route_precedence(op: OperationDef) -> list[int]:
    """Routes are tried in order: a literal segment before a placeholder in the same place, as
    OpenAPI matches "concrete paths before their templated counterparts", and a placeholder with
    text of its own (Google's `{name}:cancel`) before a bare one."""
    return _precedence(op.http_path)


def _precedence(route: str) -> list[int]:
    return [
        0 if "{" not in segment else 1 if _PLACEHOLDER_ONLY.fullmatch(segment) is None else 2
        for segment in route.split("/")
    ]


_PLACEHOLDER_ONLY = re.compile(r"{[^{}/]+}")


def route_guards(operations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Paths that a looser templated route would also take for a method they do not serve.

    Starlette tries routes in order and takes the first whose path and method match, so `POST
    /pets/mine` would reach `POST /pets/{id}`, and `GET /v2/k:undelete` would reach `GET /v2/{name}`;
    OpenAPI says the concrete path wins (and the more specific template, here), and it has no such
    method: 405. Each guard is a route of its own for those methods, before every route. A method
    that a still more specific route of the guarded path serves is left to that route.
    """
    served: dict[str, set[str]] = {}
    for op in operations:
        served.setdefault(op["route"], set()).add(op["method"])

    def within(inner: str, outer: str) -> bool:
        """Every path of ``inner`` is one of ``outer`` (which is looser)."""
        return _precedence(inner) < _precedence(outer) and _route_pattern(outer).fullmatch(_instance(inner)) is not None

    guards = []
    for route, methods in sorted(served.items()):
        taken = {method for other, others in served.items() if within(route, other) for method in others - methods}
        taken -= {method for other, others in served.items() if within(other, route) for method in others}
        if taken:
            guards.append({"route": route, "methods": sorted(taken)})
    return guards


def _instance(route: str) -> str:
    """A path the route takes: each placeholder filled with text of no special meaning."""
    return _PLACEHOLDER_ONLY.sub("x", route)


def _route_pattern(route: str) -> re.Pattern[str]:
    parts = re.split(r"({[^{}/]+})", route)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


def _serves_contract(service: Endpoint, rest_ops: list[OperationDef]) -> bool:
    """Whether the service serves its OpenAPI contract: when it describes every REST operation."""
    return service.openapi_document is not None and all(op.params is not None for op in rest_ops)


def served_contract(spec: LoadedSpec, service: str) -> str | None:
    """The OpenAPI document a service serves, as JSON text (written next to its routes)."""
    document = spec.endpoints[service].openapi_document
    return None if document is None else json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def _grpc_op(spec: LoadedSpec, op: OperationDef, contract: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": op.name,
        "service": op.grpc_service or contract["service"],
        "snake": names.function(op.name),
        "streaming": op.streaming,
        "request": op.request,
        "response": op.response,
        "request_pb": contract["pb_types"][op.request],
        "response_pb": contract["pb_types"][op.response],
        "sample_request_py": repr(sample(_schema_of(spec, op.request))),
        "sample_response_py": repr(sample(_schema_of(spec, op.response))),
    }


def _union(groups: Any) -> list[dict[str, Any]]:
    seen = {m["alias"]: m for group in groups for m in group}
    return [seen[alias] for alias in sorted(seen)]


def _proto_owners(
    spec: LoadedSpec, service: Endpoint, grpc_ops: list[OperationDef], outbound: list[PlannedInteraction]
) -> tuple[list[str], list[str]]:
    """Endpoints whose .proto contracts this service compiles: imported ones, and the module names
    its generated ones take."""
    owners = ([service.name] if grpc_ops else []) + sorted({p.to for p in outbound if p.pattern == "grpc"})
    imported = [name for name in owners if spec.endpoints[name].proto_descriptor]
    generated = sorted(names.snake(name) for name in owners if name not in imported)
    return imported, generated


def _module_entry(module: PyModule) -> dict[str, Any]:
    return {"package": module.package, "name": module.name, "alias": module.alias, "untyped": module.untyped}


def _proto_identity(
    spec: LoadedSpec, service: Endpoint, grpc_ops: list[OperationDef], protos: Layout
) -> dict[str, Any]:
    """Where a service's gRPC contract lives, what it is called, and the Python expression of
    each message's protobuf class."""
    messages = sorted({m for op in grpc_ops for m in (op.request, op.response) if m})
    if service.proto_descriptor:
        main = protos.renamed[service.name][service.proto_main]
        module = protos.modules[main].name.removesuffix("_pb2")
        proto_service = service.proto_service or names.pascal(service.name)
        package = service.proto_package or ""
        full_names = dict(service.proto_types)
        pb_types = {}
        used: dict[str, PyModule] = {}
        for message in messages:
            py_module, attr = protos.types[full_names[message]]
            used[py_module.alias] = py_module
            pb_types[message] = f"{py_module.alias}.{attr}"
        # A contract may declare several services: each is served (and called) under its own name.
        declared = list(dict.fromkeys(op.grpc_service or proto_service for op in grpc_ops)) or [proto_service]
        return {
            "service": declared[0],
            "full_service": _full_name(package, declared[0]),
            "services": [{"name": name, "full_name": _full_name(package, name)} for name in declared],
            "proto_package": package,
            "module": module,
            "proto_file": main,
            "contract_owner": service.name,
            "pb_types": pb_types,
            "pb_imports": [_module_entry(used[alias]) for alias in sorted(used)],
            "proto": None,
        }
    package = f"{names.snake(spec.name)}.{names.snake(service.name)}.v1"
    proto_service = names.pascal(service.name)
    module = names.snake(service.name)
    model = proto_model({m: _schema_of(spec, m) for m in messages})
    own = PyModule(None, f"{module}_pb2", f"{module}_pb2")
    return {
        "service": proto_service,
        "full_service": f"{package}.{proto_service}",
        "services": [{"name": proto_service, "full_name": _full_name(package, proto_service)}],
        "proto_package": package,
        "module": module,
        "proto_file": f"{module}.proto",
        "contract_owner": None,
        "pb_types": {m: f"{own.alias}.{m}" for m in messages},
        "pb_imports": [_module_entry(own)],
        "proto": {
            "uses_value": model.uses_value,
            "messages": [
                {
                    "name": m.name,
                    "fields": [
                        {
                            "name": f.name,
                            "json_name": f.json_name,
                            "type": f.type,
                            "number": f.number,
                            "label": "repeated " if f.repeated else ("optional " if f.optional else ""),
                        }
                        for f in m.fields
                    ],
                }
                for m in model.messages
            ],
            "methods": [
                {
                    "name": op.name,
                    "request": op.request,
                    "response": op.response,
                    "client_stream": op.streaming in ("client", "bidi"),
                    "server_stream": op.streaming in ("server", "bidi"),
                    "idempotent": op.idempotent,
                }
                for op in grpc_ops
            ],
        },
    }


def _full_name(package: str, service: str) -> str:
    return f"{package}.{service}" if package else service


def _stubs(client: dict[str, Any], links: list[dict[str, Any]], services: list[str]) -> list[dict[str, Any]]:
    """The stubs a gRPC client holds, one per .proto service its links call (``services``, one per
    link; all on one channel), and which stub and service-config key each link uses. The first
    service's methods are keyed by their name in the service config, the others' by
    `package.Service/Method`."""
    full_names = {s["name"]: s["full_name"] for s in client["services"]}
    called = list(dict.fromkeys(services))
    stubs = []
    for index, name in enumerate(called):
        prefix = "" if index == 0 else f"_{names.snake(name)}"
        stubs.append(
            {
                "name": name,
                "full_name": full_names[name],
                "instance": f"{prefix}_stub_instance",
                "property": f"{prefix}_stub",
                "connect": f"{prefix}_stub_connect" if prefix else "_connect",
            }
        )
    by_name = {stub["name"]: stub for stub in stubs}
    for link, service in zip(links, services, strict=True):
        stub = by_name[service]
        link["stub"] = stub
        name = link["operation"]["name"]
        link["config_key"] = name if stub is stubs[0] else f"{stub['full_name']}/{name}"
    return stubs


def _clients(
    spec: LoadedSpec,
    outbound: list[PlannedInteraction],
    pattern: str,
    ports: dict[str, int],
    grpc_exposed: dict[str, list[OperationDef]],
    protos: Layout,
) -> list[dict[str, Any]]:
    by_target: dict[str, list[PlannedInteraction]] = {}
    for p in outbound:
        if p.pattern == pattern:
            by_target.setdefault(p.to, []).append(p)
    out = []
    for target_name in sorted(by_target):
        target = spec.endpoints[target_name]
        links: list[dict[str, Any]] = []
        for p in by_target[target_name]:
            op = target.operations[p.operation or ""]
            if pattern == "grpc":
                op = with_empty(op)
            links.append(
                {
                    "id": p.id,
                    "snake": names.function(p.operation or ""),
                    "setting": names.snake(p.id),
                    "setting_class": names.pascal(p.id),
                    "settings": settings_fields(
                        "grpc-stream" if pattern == "grpc" and op.streaming != "none" else pattern,
                        p.use_case,
                        p.resilience,
                    ),
                    "operation": _operation(spec, op),
                    # The interaction may declare the call idempotent (or not) whatever the operation says.
                    "idempotent": bool(p.resilience["idempotent"]),
                    "method": op.http_method,
                    "path": op.http_path,
                    **binding(op, _schema_of(spec, op.request) if op.request else {}),
                    "resilience": p.resilience,
                    "reason": p.reason,
                }
            )
        client: dict[str, Any] = {
            "target": target_name,
            "snake": names.snake(target_name),
            "class_name": names.pascal(target_name) + "Client",
            "external": not target.is_service,
            "links": links,
        }
        if pattern == "rest":
            client["base_url"] = target.base_url or f"http://127.0.0.1:{HTTP_PORT_BASE + ports.get(target_name, 0)}"
        else:
            client["target_address"] = f"127.0.0.1:{GRPC_PORT_BASE + ports.get(target_name, 0)}"
            client.update(_proto_identity(spec, target, grpc_exposed[target_name], protos))
            services = [
                target.operations[p.operation or ""].grpc_service or client["service"] for p in by_target[target_name]
            ]
            client["stubs"] = _stubs(client, links, services)
            # Named after the first service it calls, which need not be the contract's first.
            client["service"], client["full_service"] = client["stubs"][0]["name"], client["stubs"][0]["full_name"]
            for link in links:
                link["request_pb"] = client["pb_types"][link["operation"]["request"]]
                link["response_pb"] = client["pb_types"][link["operation"]["response"]]
        out.append(client)
    return out


def _distinct_clients(rest: list[dict[str, Any]], grpc: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A service called over both REST and gRPC (an override beside planned links) gets two
    clients: name them apart, or one class, attribute and setting would shadow the other."""
    both = {c["target"] for c in rest} & {c["target"] for c in grpc}
    for clients, transport in ((rest, "rest"), (grpc, "grpc")):
        for client in clients:
            if client["target"] in both:
                client["snake"] = f"{names.snake(client['target'])}_{transport}"
                client["class_name"] = f"{names.pascal(client['target'])}{transport.capitalize()}Client"
    return {"rest_clients": rest, "grpc_clients": grpc}


def _webhook(spec: LoadedSpec, p: PlannedInteraction, inbound: bool) -> dict[str, Any]:
    peer = p.from_ if inbound else p.to
    message = p.message or ""
    schema = spec.messages[message].schema if message in spec.messages else {}
    refusable, invalid = counterexample(schema)
    return {
        "id": p.id,
        "peer": peer,
        "peer_snake": names.snake(peer),
        "message": message,
        "snake": names.snake(message),
        "event_type": names.dotted(message),
        "path": f"/webhooks/{peer}/{names.kebab(message)}",
        "setting": names.snake(p.id),
        "setting_class": names.pascal(p.id),
        "settings": settings_fields("webhook-inbound" if inbound else "webhook-outbound", p.use_case, p.resilience),
        "handler": f"on_{names.snake(message)}_from_{names.snake(peer)}",
        "class_name": f"{names.pascal(peer)}{names.pascal(message)}Webhooks",
        "attribute": f"{names.snake(peer)}_{names.snake(message)}_webhooks",
        "resilience": p.resilience,
        "sample_py": repr(sample(schema)),
        "schedule_text": "" if inbound else schedule_text(p.resilience["send_schedule_s"]),
        # A body the receiver must refuse with 400, or None when the schema accepts anything small.
        "invalid_sample_py": repr(invalid) if refusable else None,
    }


def _async_link(spec: LoadedSpec, p: PlannedInteraction) -> dict[str, Any]:
    message = p.message or ""
    schema = spec.messages[message].schema if message in spec.messages else {}
    refusable, invalid = counterexample(schema)
    return {
        "id": p.id,
        "pattern": p.pattern,
        "message": p.message,
        "message_type": names.dotted(message),
        "channel": p.channel,
        "channel_snake": names.snake(p.channel or message),
        "peer": p.to,
        "source": p.from_,
        "setting": names.snake(p.id),
        "setting_class": names.pascal(p.id),
        "resilience": p.resilience,
        "sample_py": repr(sample(schema)),
        # A payload the consumer must dead-letter as invalid, or None when the schema accepts anything small.
        "invalid_sample_py": repr(invalid) if refusable else None,
        "topology": _queue_topology(p) if p.pattern == "queue" else None,
    }


# What a service's database holds, with the Python types of its settings.
_OUTBOX_FIELDS = (
    ("outbox_poll_interval_ms", "PositiveMs"),
    ("outbox_batch_size", "Count"),
    ("outbox_concurrency", "Count"),
    ("outbox_backoff_initial_ms", "PositiveMs"),
    ("outbox_backoff_max_ms", "PositiveMs"),
    ("outbox_lease_ms", "PositiveMs"),
)
_INBOX_FIELDS = (("inbox_retention_s", "PositiveS"), ("inbox_batch_max", "Count"))


def _store(package: str, inbound: list[PlannedInteraction], outbound: list[PlannedInteraction]) -> dict[str, Any]:
    """The service's own database, when it has an outbox (it publishes to a queue or a stream, sends
    webhooks, or receives them: a received webhook is stored there for its handler) or an inbox (it
    consumes from a queue or a stream, or receives webhooks): its default URL and the settings of each."""
    receives_webhooks = any(p.pattern == "webhook" for p in inbound)
    outbox = receives_webhooks or any(p.pattern in ("queue", "stream", "webhook") for p in outbound)
    inbox = receives_webhooks or any(p.pattern in ("queue", "stream") for p in inbound)
    if not (outbox or inbox):
        return {"store": None, "outbox": None, "inbox": None}

    def fields(keys: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        out = []
        for key, type_ in keys:
            default = lookup("store", key)
            out.append(
                {"name": key, "type": type_, "value_py": repr(default.value), "source": doc_text(default.source, 400)}
            )
        return out

    url = lookup("store", "database_url")
    return {
        "store": {
            "database_url": str(url.value).format(service=package),
            "database_url_source": doc_text(url.source, 400),
        },
        "outbox": {"settings": fields(_OUTBOX_FIELDS), "source": doc_text(lookup("store", "outbox").source, 400)}
        if outbox
        else None,
        "inbox": {"settings": fields(_INBOX_FIELDS)} if inbox else None,
    }


def _streams(
    spec: LoadedSpec, inbound: list[PlannedInteraction], outbound: list[PlannedInteraction]
) -> dict[str, Any] | None:
    """The Kafka side of a service: its producer, the topics it creates and its consumer group."""
    published = [p for p in outbound if p.pattern == "stream"]
    consumed = [p for p in inbound if p.pattern == "stream"]
    if not published and not consumed:
        return None
    first = (published + consumed)[0].resilience
    topics: dict[str, dict[str, Any]] = {}

    def topic(name: str, resilience: dict[str, Any]) -> None:
        topics.setdefault(name, {"name": name, **{key: resilience[key] for key in _TOPIC_KEYS}})

    for p in published:
        topic(p.resilience["topic"], p.resilience)
    consumers = []
    for p in consumed:
        r = p.resilience
        for name in (r["topic"], r["retry_topic"], r["dead_letter_topic"]):
            topic(name, r)
        message = p.message or ""
        consumers.append(
            {
                "id": p.id,
                "source": p.from_,
                "message": message,
                "topic": r["topic"],
                "retry_topic": r["retry_topic"],
                "dead_letter_topic": r["dead_letter_topic"],
                "setting": names.snake(p.id),
                "setting_class": names.pascal(p.id),
                "settings": settings_fields("stream-consume", p.use_case, r),
            }
        )
    groups = sorted({p.resilience["consumer_group"] for p in consumed})
    return {
        "bootstrap_servers": KAFKA_BOOTSTRAP_DEFAULT,
        "producer": {key: first[key] for key in _PRODUCER_KEYS},
        "producer_py": repr({key: first[key] for key in _PRODUCER_KEYS}),
        "producer_sources": {key: doc_text(lookup("stream", key).source, limit=400) for key in _PRODUCER_KEYS},
        "replication_factor": first["replication_factor"],
        "min_insync_replicas": first["min_insync_replicas"],
        "topic_sources": {key: doc_text(lookup("stream", key).source, limit=400) for key in _TOPIC_KEYS},
        # How the start-up retries while no broker answers (the service serves meanwhile).
        "connect_backoff_initial_ms": lookup("stream", "connect_backoff_initial_ms").value,
        "connect_backoff_max_ms": lookup("stream", "connect_backoff_max_ms").value,
        "connect_backoff_source": doc_text(lookup("stream", "connect_backoff_max_ms").source, limit=400),
        "topics": [topics[name] for name in sorted(topics)],
        # One group per consuming service (each sees every event); a service is one group.
        "consumer_group": groups[0] if groups else None,
        "consumer_sources": {"group": doc_text(lookup("stream", "auto_offset_reset").source, limit=400)},
        "consumer": {key: consumed[0].resilience[key] for key in ("max_poll_interval_ms", "auto_offset_reset")}
        if consumed
        else None,
        "consumers": consumers,
        "publishes": [
            {"id": p.id, "topic": p.resilience["topic"], "message": p.message, "key": p.resilience["partition_key"]}
            for p in published
        ],
    }


def _queue_topology(p: PlannedInteraction) -> dict[str, Any]:
    """The planned names and arguments of a queue link's exchanges and queues, and the Python constant
    that holds them."""
    keys = (
        "exchange",
        "routing_key",
        "queue",
        "dead_letter_exchange",
        "dead_letter_queue",
        "delivery_limit",
        "retry_delays_ms",
        "queue_type",
        "dead_letter_strategy",
    )
    topology = {key: p.resilience[key] for key in keys}
    topology["constant"] = names.snake(p.id).upper()
    topology["retry_delays_py"] = repr(tuple(p.resilience["retry_delays_ms"]))
    return topology


def _consumers(
    spec: LoadedSpec, service: Endpoint, inbound: list[PlannedInteraction], ops: list[OperationDef]
) -> list[dict[str, Any]]:
    """Each consumed link with its settings and the name of its handler in handlers.py.

    The handler is named after the channel (`on_order_created`); a name another handler already takes
    (an operation, a webhook, the same channel over the other transport) gets the pattern appended.
    """
    taken = {names.function(op.name) for op in ops}
    webhooks = [p for p in inbound if p.pattern == "webhook"]
    taken.update(f"on_{names.snake(p.message or '')}_from_{names.snake(p.from_)}" for p in webhooks)
    out = []
    for p in inbound:
        if p.pattern not in ("queue", "stream"):
            continue
        link = _async_link(spec, p)
        handler = f"on_{link['channel_snake']}"
        if handler in taken:
            handler = f"{handler}_{p.pattern}"
        while handler in taken:
            handler += "_"
        taken.add(handler)
        link["handler"] = handler
        if p.pattern == "queue":
            link["settings"] = settings_fields("queue-consume", p.use_case, p.resilience)
        out.append(link)
    return out


def _publish_channels(spec: LoadedSpec, outbound: list[PlannedInteraction]) -> list[dict[str, Any]]:
    """What the service publishes, one entry per channel and pattern: a message published once reaches
    every link of its channel (each consuming service's queue is bound to the channel's exchange)."""
    grouped: dict[tuple[str, str], list[PlannedInteraction]] = {}
    for p in outbound:
        if p.pattern in ("queue", "stream"):
            grouped.setdefault((p.channel or "", p.pattern), []).append(p)
    patterns_per_channel: dict[str, int] = {}
    for channel, _ in grouped:
        patterns_per_channel[channel] = patterns_per_channel.get(channel, 0) + 1
    out = []
    for (channel, pattern), links in sorted(grouped.items()):
        links = sorted(links, key=lambda p: p.id)
        first = _async_link(spec, links[0])
        snake = first["channel_snake"]
        if patterns_per_channel[channel] > 1:
            snake = f"{snake}_{pattern}"
        entry: dict[str, Any] = {
            "channel": channel,
            "pattern": pattern,
            "snake": snake,
            "method": f"publish_{snake}",
            "message": first["message"],
            "message_type": first["message_type"],
            "links": [p.id for p in links],
            "consumers": sorted(p.to for p in links),
            "setting": snake,
            "setting_class": names.pascal(snake) + "Publishing",
            "sample_py": first["sample_py"],
        }
        if pattern == "queue":
            # Publishing settings are the plan's defaults, the same for every link of the channel.
            entry["settings"] = settings_fields("queue-publish", links[0].use_case, links[0].resilience)
            entry["topologies"] = [_queue_topology(p) for p in links]
        else:
            # One topic per channel; every record is keyed by the channel's key field (none: no key).
            entry["topic"] = links[0].resilience["topic"]
            entry["key"] = links[0].resilience["partition_key"]
        out.append(entry)
    return out


def _link_summary(p: PlannedInteraction, me: str) -> dict[str, Any]:
    return {
        "id": p.id,
        "direction": "out" if p.from_ == me else "in",
        "peer": p.to if p.from_ == me else p.from_,
        "pattern": p.pattern,
        "what": p.operation or p.message,
        "rule": p.rule,
        "reason": p.reason,
    }


def _uses_email(schemas: list[Any]) -> bool:
    """Whether a schema checks `format: email` (or `idn-email`) anywhere, data keywords aside."""
    pending = list(schemas)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("format") in ("email", "idn-email") and not isinstance(node.get("enum"), list):
                return True
            pending += [v for k, v in node.items() if k not in DATA_KEYWORDS]
        elif isinstance(node, list):
            pending += node
    return False


def _messages_used(
    spec: LoadedSpec,
    service: Endpoint,
    ops: list[OperationDef],
    inbound: list[PlannedInteraction],
    outbound: list[PlannedInteraction],
) -> list[str]:
    used: set[str] = set()
    for op in ops:
        used.update(m for m in (op.request, op.response) if m)
    for p in [*inbound, *outbound]:
        if p.message:
            used.add(p.message)
        if p.operation and p.from_ == service.name:
            target_op = spec.endpoints[p.to].operations[p.operation]
            if p.pattern == "grpc":
                target_op = with_empty(target_op)
            used.update(m for m in (target_op.request, target_op.response) if m)
    return sorted(used)
