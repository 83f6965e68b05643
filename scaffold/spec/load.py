"""Load a spec file: parse, validate, follow references, import contracts, check names.

Every problem found is collected; the caller gets either a :class:`LoadedSpec` or one
:class:`SpecInvalid` that lists them all.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scaffold import names
from scaffold.errors import Problem, SpecInvalid
from scaffold.spec.model import Interaction, Operation, Spec
from scaffold.spec.resolved import (
    IDEMPOTENT_METHODS,
    ChannelDef,
    Endpoint,
    LoadedSpec,
    MessageDef,
    OperationDef,
)
from scaffold.spec.schema_bounds import schema_problem, without_unreadable_patterns
from scaffold.spec.validate import problems_from
from scaffold.spec.yaml_source import Loc, Source, load_source, special_file_problem, value_problems


def load_spec(path: str | Path, root: str | Path | None = None) -> LoadedSpec:
    """Load and fully resolve the spec at ``path`` or raise :class:`SpecInvalid`.

    Files the spec references (`$ref`, `contracts`) must lie under ``root``, by default the
    spec's own folder: a spec from elsewhere cannot read (and copy into generated code) any file
    of the machine it is generated on.
    """
    path = Path(path)
    display = str(path)
    source = load_source(path, display)
    return resolve(source, path.parent, root)


def resolve(source: Source, base_dir: Path, root: str | Path | None = None) -> LoadedSpec:
    """Validate parsed YAML and resolve it against files under ``base_dir`` (confined to ``root``,
    by default ``base_dir``)."""
    if not isinstance(source.data, dict):
        raise SpecInvalid(
            [source.problem((), "the spec must be a mapping at the top level", "start with `version: 1`")]
        )
    wrong_values = value_problems(source)
    if wrong_values:
        raise SpecInvalid(wrong_values)
    try:
        spec = Spec.model_validate(source.data)
    except ValidationError as exc:
        raise SpecInvalid(problems_from(exc, source, Spec)) from None
    return _Resolver(spec, source, base_dir, Path(root) if root is not None else base_dir).run()


class _Resolver:
    def __init__(self, spec: Spec, source: Source, base_dir: Path, root: Path) -> None:
        self.spec = spec
        self.source = source
        self.base_dir = base_dir
        self.root = root
        self.problems: list[Problem] = []
        self.messages: dict[str, MessageDef] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.channels: dict[str, ChannelDef] = {}
        # Messages defined but refused (already reported): naming one is not a second problem.
        self.rejected: set[str] = set()
        self.warnings: list[Problem] = []

    def fail(self, loc: Loc, message: str, hint: str = "") -> None:
        self.problems.append(self.source.problem(loc, message, hint))

    def run(self) -> LoadedSpec:
        self._messages()
        self._endpoints()
        self._operation_messages()
        self._channels()
        self._interactions()
        if self.problems:
            raise SpecInvalid(self.problems)
        positions = tuple(self.source.where(("interactions", i)) for i in range(len(self.spec.interactions)))
        return LoadedSpec(
            path=self.source.path,
            name=self.spec.name,
            description=self.spec.description,
            settings=self.spec.settings,
            messages=dict(sorted(self.messages.items())),
            channels=dict(sorted(self.channels.items())),
            endpoints=self.endpoints,
            interactions=tuple(self.spec.interactions),
            interaction_positions=positions,
            warnings=tuple(self.warnings),
        )

    # -- messages -------------------------------------------------------------------------
    def _messages(self) -> None:
        for name, message in self.spec.messages.items():
            loc: Loc = ("messages", name)
            clash = names.message_name_problem(name)
            if clash:
                self.fail(loc, clash, f"rename the message, e.g. `{name}Message`")
                self.rejected.add(name)
                continue
            if message.schema_ is not None:
                schema, origin = message.schema_, "spec"
            else:
                assert message.ref is not None
                loaded = self._schema_file(message.ref, (*loc, "$ref"))
                if loaded is None:
                    self.rejected.add(name)
                    continue
                schema, origin = loaded, f"file:{message.ref}"
            if self._check_schema(schema, loc, message.ref):
                schema = self._readable_patterns(
                    schema, (*loc, "$ref") if message.ref else (*loc, "schema"), f"message `{name}`"
                )
                self.messages[name] = MessageDef(name, message.description, schema, origin)
            else:
                self.rejected.add(name)

    def _confined(self, ref: str, loc: Loc) -> Path | None:
        """The file ``ref`` names, if it lies under the root and is not a device or FIFO."""
        target = self.base_dir / ref
        try:
            real, root = target.resolve(), self.root.resolve()
        except (OSError, RuntimeError, ValueError):
            return target  # a loop of links or a NUL in the path: the reader says what is wrong
        if not real.is_relative_to(root):
            shown = "" if real == Path(os.path.abspath(target)) else f" (through a link, to {real})"
            self.fail(
                loc,
                f"`{ref}` leads outside {root}, the folder referenced files must be in{shown}",
                "move the file under the spec's folder, or allow a wider folder with `--root DIR`",
            )
            return None
        special = special_file_problem(real)
        if special:
            self.fail(loc, f"`{ref}` {special}", "point at a regular file")
            return None
        return target

    def _schema_file(self, ref: str, loc: Loc) -> dict[str, Any] | None:
        target = self.base_dir / ref
        if target.suffix.lower() not in {".json", ".yaml", ".yml"}:
            self.fail(loc, f"`{ref}` is not a .json, .yaml or .yml file", "point `$ref` at a JSON Schema file")
            return None
        confined = self._confined(ref, loc)
        if confined is None:
            return None
        try:
            data = load_source(target, ref).data
        except SpecInvalid as exc:
            for p in exc.problems:
                # Keep the position inside the referenced file: the spec's line only says which `$ref`.
                where = f"{ref}:{p.line}:{p.column or 1}" if p.line else ref
                field = f" {p.field}:" if p.field else ""
                self.fail(loc, f"{where}:{field} {p.message}", p.hint)
            return None
        if not isinstance(data, dict):
            self.fail(loc, f"`{ref}` does not hold a JSON Schema object", "the file must be a mapping")
            return None
        return data

    def _check_schema(self, schema: dict[str, Any], loc: Loc, ref: str | None) -> bool:
        import jsonschema

        dialect = schema.get("$schema")
        if dialect is not None and not isinstance(dialect, str):
            # jsonschema looks `$schema` up in a dict: a list or mapping there raises TypeError.
            self.fail(
                (*loc, "$ref") if ref else (*loc, "schema", "$schema"),
                f"{ref + ': ' if ref else ''}`$schema` must be text (a JSON Schema dialect URI)",
                "omit it, or use https://json-schema.org/draft/2020-12/schema",
            )
            return False
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError as exc:
            if ref is None:
                # Point at the offending key of an inline schema, not at the message's first line.
                self.fail((*loc, "schema", *exc.path), f"not a valid JSON Schema: {exc.message}", _SCHEMA_HINT)
            else:
                where = ".".join(str(p) for p in exc.path) or "(top)"
                self.fail((*loc, "$ref"), f"{ref}: not a valid JSON Schema at {where}: {exc.message}", _SCHEMA_HINT)
            return False
        except RecursionError:
            # Backstop: jsonschema recurses several frames per nesting level (the reader caps depth).
            self.fail(loc, "the JSON Schema is nested too deeply", "flatten it with `$defs`")
            return False
        return self._bounded(schema, (*loc, "$ref") if ref else (*loc, "schema"), ref)

    def _readable_patterns(self, schema: dict[str, Any], loc: Loc, what: str) -> dict[str, Any]:
        """``schema`` without the patterns the generated models could not compile, each reported."""
        cleaned, dropped = without_unreadable_patterns(schema)
        for pattern in dropped:
            self.warnings.append(
                self.source.problem(
                    loc,
                    f"{what}: pattern `{pattern}` is not enforced: pydantic cannot compile it here (Rust's"
                    " regex has no lookarounds, and Python's `re`, used for a message that has them, no Unicode"
                    " classes such as `\\p{L}`)",
                    "write the lookarounds or the Unicode classes of the message's patterns another way",
                )
            )
        return cleaned

    def _bounded(self, schema: dict[str, Any], loc: Loc, ref: str | None) -> bool:
        too_large = schema_problem(schema)
        if too_large:
            message, hint = too_large
            self.fail(loc, f"{ref + ': ' if ref else ''}the schema cannot be generated from: {message}", hint)
            return False
        return True

    # -- services and externals ---------------------------------------------------------
    def _endpoints(self) -> None:
        for name, service in self.spec.services.items():
            loc: Loc = ("services", name)
            self._identifier(name, loc)
            shadow = names.package_shadow_problem(name)
            if shadow:
                self.fail(loc, shadow, f"rename the service, e.g. `{names.kebab(name)}-service`")
            operations = {op_name: _operation(op_name, op) for op_name, op in service.operations.items()}
            extra: dict[str, Any] = {}
            contracts = service.contracts
            if contracts is not None:
                imported = self._contracts(name, loc, operations)
                extra.update(imported)
            self.endpoints[name] = Endpoint(
                name=name,
                kind="service",
                description=service.description,
                operations=operations,
                publishes=tuple(service.publishes),
                consumes=tuple(service.consumes),
                **extra,
            )
            for op_name in operations:
                self._identifier(op_name, (*loc, "operations", op_name))
        for name, external in self.spec.externals.items():
            loc = ("externals", name)
            if name in self.spec.services:
                self.fail(loc, f"`{name}` is both a service and an external", "rename one of them")
                continue
            if external.kind == "client" and external.operations:
                self.fail(
                    (*loc, "operations"),
                    "a `client` external calls in and offers no operations",
                    "use `kind: api` for a third-party API",
                )
            self.endpoints[name] = Endpoint(
                name=name,
                kind=external.kind,
                description=external.description,
                operations={n: _operation(n, op) for n, op in external.operations.items()},
                base_url=external.base_url,
                accepts_idempotency_key=external.accepts_idempotency_key,
            )

    def _contracts(self, service: str, loc: Loc, operations: dict[str, OperationDef]) -> dict[str, Any]:
        from scaffold.spec import contracts as importer

        spec_contracts = self.spec.services[service].contracts
        assert spec_contracts is not None
        extra: dict[str, Any] = {}
        for kind, ref in (("proto", spec_contracts.proto), ("openapi", spec_contracts.openapi)):
            if ref is None:
                continue
            ref_loc: Loc = (*loc, "contracts", kind)
            confined = self._confined(ref, ref_loc)
            if confined is None:
                continue
            target = confined
            try:
                if kind == "proto":
                    includes = self._proto_paths(spec_contracts.proto_paths, (*loc, "contracts", "proto_paths"))
                    if includes is None:
                        continue
                    contract = importer.import_proto(target, ref, includes)
                    extra.update(
                        proto_file=str(target.resolve()),
                        proto_package=contract.proto_package,
                        proto_service=contract.proto_service,
                        proto_descriptor=contract.proto_descriptor,
                        proto_main=contract.proto_main,
                        proto_types=tuple(sorted((contract.proto_types or {}).items())),
                    )
                else:
                    contract = importer.import_openapi(target, ref)
                    extra.update(openapi_file=str(target.resolve()), openapi_document=contract.document)
            except SpecInvalid as exc:
                for p in exc.problems:
                    if p.line:
                        self.problems.append(p)
                    else:
                        # A problem with the file as a whole (missing, unreadable) says nothing of
                        # where the spec names it: report it at the spec's `contracts` entry.
                        self.fail(ref_loc, f"{p.file or ref}: {p.message}", p.hint)
                continue
            self.warnings.extend(contract.warnings)
            for op_name, op in contract.operations.items():
                if op_name in operations:
                    self.fail(
                        ref_loc,
                        f"operation `{op_name}` is both in the spec and in `{ref}`",
                        "remove it from the spec: the contract owns it",
                    )
                operations[op_name] = op
            for msg_name, message in contract.messages.items():
                if not self._bounded(message.schema, ref_loc, f"{ref} message `{msg_name}`"):
                    self.rejected.add(msg_name)
                    continue
                readable = self._readable_patterns(message.schema, ref_loc, f"{ref} message `{msg_name}`")
                message = replace(message, schema=readable) if readable is not message.schema else message
                known = self.messages.get(msg_name)
                if known is not None and known.schema != message.schema:
                    self.fail(
                        ref_loc,
                        f"message `{msg_name}` from `{ref}` differs from the one already defined",
                        "rename one of them",
                    )
                    continue
                self.messages.setdefault(msg_name, message)
        return extra

    def _proto_paths(self, paths: list[str], loc: Loc) -> list[Path] | None:
        """The include roots, each a folder under the root that confines every referenced file
        (the spec's folder unless `--root` widens it); None when one is not."""
        root = self.root.resolve()
        found = []
        for i, raw in enumerate(paths):
            folder = (self.base_dir / raw).resolve()
            if not folder.is_relative_to(root):
                self.fail(
                    (*loc, i),
                    f"`{raw}` is outside {root}, the folder referenced files must be in",
                    "keep include folders next to the spec, or allow a wider folder with `--root DIR`",
                )
                return None
            if not folder.is_dir():
                self.fail((*loc, i), f"`{raw}` is not a folder", "give a folder the .proto's imports are found in")
                return None
            found.append(folder)
        return found

    def _identifier(self, name: str, loc: Loc) -> None:
        problem = names.python_identifier_problem(name)
        if problem:
            self.fail(loc, problem, "choose another name")

    def _operation_messages(self) -> None:
        for name, endpoint in self.endpoints.items():
            group = "services" if endpoint.is_service else "externals"
            for op in endpoint.operations.values():
                for role in ("request", "response"):
                    msg = getattr(op, role)
                    if msg is not None and msg not in self.messages and msg not in self.rejected:
                        self.fail(
                            (group, name, "operations", op.name, role),
                            f"unknown message `{msg}`",
                            self._suggest(msg, self.messages, "messages"),
                        )

    # -- channels -----------------------------------------------------------------------
    def _channels(self) -> None:
        for name, channel in self.spec.channels.items():
            if channel.message not in self.messages and channel.message not in self.rejected:
                self.fail(
                    ("channels", name, "message"),
                    f"unknown message `{channel.message}`",
                    self._suggest(channel.message, self.messages, "messages"),
                )
            self.channels[name] = ChannelDef(name, channel.message, channel.description, channel.key)
        # Channels named by interactions and not declared take their name from the message.
        for index, inter in enumerate(self.spec.interactions):
            if inter.message is None or inter.operation is not None:
                continue
            channel_name = inter.channel or names.dotted(inter.message)
            declared = self.channels.get(channel_name)
            if declared is None:
                self.channels[channel_name] = ChannelDef(channel_name, inter.message, "", None)
            elif declared.message != inter.message:
                self.fail(
                    ("interactions", index, "message"),
                    f"channel `{channel_name}` carries `{declared.message}`, not `{inter.message}`",
                    "use the channel's message or name another channel",
                )
        for name, endpoint in self.endpoints.items():
            for role in ("publishes", "consumes"):
                for i, channel_name in enumerate(getattr(endpoint, role)):
                    if channel_name not in self.channels:
                        self.fail(
                            ("services", name, role, i),
                            f"unknown channel `{channel_name}`",
                            self._suggest(channel_name, self.channels, "channels"),
                        )

    # -- interactions ---------------------------------------------------------------------
    def _interactions(self) -> None:
        seen: dict[str, int] = {}
        for index, inter in enumerate(self.spec.interactions):
            loc: Loc = ("interactions", index)
            ends_known = True
            for role, name in (("from", inter.from_), ("to", inter.to)):
                if name not in self.endpoints:
                    ends_known = False
                    self.fail(
                        (*loc, role),
                        f"unknown service or external `{name}`",
                        self._suggest(name, self.endpoints, "services or externals"),
                    )
            if inter.from_ == inter.to:
                self.fail(loc, f"`{inter.from_}` talks to itself", "an interaction links two different ends")
            if (inter.operation is None) == (inter.message is None):
                self.fail(
                    loc,
                    "give exactly one of `operation` (a call) or `message` (an async message or webhook)",
                    "`operation` names an operation of `to`; `message` names a message",
                )
            if inter.channel is not None and inter.message is None:
                self.fail((*loc, "channel"), "`channel` only goes with `message`", "add the message that flows")
            if inter.message is not None and inter.message not in self.messages and inter.message not in self.rejected:
                self.fail(
                    (*loc, "message"),
                    f"unknown message `{inter.message}`",
                    self._suggest(inter.message, self.messages, "messages"),
                )
            if ends_known:
                self._interaction_ends(inter, loc)
            key = interaction_id(inter)
            if key in seen:
                self.fail(
                    loc,
                    f"duplicate interaction `{key}` (same as interactions[{seen[key]}])",
                    "remove one, or give them different `id`s",
                )
            seen.setdefault(key, index)

    def _interaction_ends(self, inter: Interaction, loc: Loc) -> None:
        source, target = self.endpoints[inter.from_], self.endpoints[inter.to]
        if source.kind == "api" and inter.operation is not None:
            self.fail(
                (*loc, "from"),
                f"`{source.name}` is a third-party API; it cannot call operations",
                "a third-party API reaches the system through webhooks: use `message`",
            )
        if target.kind == "client":
            self.fail(
                (*loc, "to"),
                f"`{target.name}` is a client at the edge; nothing calls into it",
                "swap `from` and `to`, or make it `kind: api`",
            )
        if not source.is_service and not target.is_service:
            self.fail(loc, "an interaction needs at least one service of this system", "")
        if inter.operation is not None and inter.operation not in target.operations:
            self.fail(
                (*loc, "operation"),
                f"`{target.name}` has no operation `{inter.operation}`",
                self._suggest(inter.operation, target.operations, f"operations of {target.name}"),
            )
        if inter.within is not None and inter.within not in source.operations:
            self.fail(
                (*loc, "within"),
                f"`{source.name}` has no operation `{inter.within}`",
                self._suggest(inter.within, source.operations, f"operations of {source.name}"),
            )

    @staticmethod
    def _suggest(name: str, known: dict[str, Any], what: str) -> str:
        import difflib

        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        if close:
            return f"did you mean `{close[0]}`?"
        if not known:
            return f"no {what} are defined"
        shown = ", ".join(sorted(known)[:8])
        return f"known {what}: {shown}" + (", ..." if len(known) > 8 else "")


_SCHEMA_HINT = "see https://json-schema.org/understanding-json-schema"


def _operation(name: str, op: Operation) -> OperationDef:
    method = op.http.method if op.http else "POST"
    path = op.http.path if op.http else "/" + names.kebab(name)
    idempotent = op.idempotent if op.idempotent is not None else method in IDEMPOTENT_METHODS
    return OperationDef(
        name=name,
        description=op.description,
        request=op.request,
        response=op.response,
        idempotent=idempotent,
        streaming=op.streaming,
        http_method=method,
        http_path=path,
    )


def interaction_id(inter: Interaction) -> str:
    """The stable name of an interaction: its `id`, or ``<from>-to-<to>-<what flows>``."""
    if inter.id:
        return inter.id
    what = inter.operation or inter.message or ""
    return f"{inter.from_}-to-{inter.to}-{names.kebab(what)}"
