"""Channels and messages: each is published, consumed and used."""

from __future__ import annotations

from collections.abc import Iterator

from scaffold.plan.checks.findings import finding
from scaffold.plan.model import Finding
from scaffold.plan.resilience import Link
from scaffold.spec.resolved import LoadedSpec


def check_channels(spec: LoadedSpec, links: list[Link]) -> Iterator[Finding]:
    publishers: dict[str, set[str]] = {name: set() for name in spec.channels}
    consumers: dict[str, set[str]] = {name: set() for name in spec.channels}
    used_messages: set[str] = set()
    for endpoint in spec.endpoints.values():
        for name in endpoint.publishes:
            publishers[name].add(endpoint.name)
        for name in endpoint.consumes:
            consumers[name].add(endpoint.name)
        for op in endpoint.operations.values():
            used_messages.update(m for m in (op.request, op.response) if m)
    for link in links:
        if link.inter.message:
            used_messages.add(link.inter.message)
        if link.channel is not None:
            publishers[link.channel.name].add(link.source.name)
            consumers[link.channel.name].add(link.target.name)
    for name, declared in spec.channels.items():
        used_messages.add(declared.message)
        if publishers[name] and not consumers[name]:
            yield finding(
                "warning",
                "unconsumed-channel",
                [],
                f"channel `{name}` is published by {', '.join(sorted(publishers[name]))} but nobody consumes it",
                "add an interaction to a consumer, or stop publishing it",
            )
        if consumers[name] and not publishers[name]:
            yield finding(
                "warning",
                "unpublished-channel",
                [],
                f"channel `{name}` is consumed by {', '.join(sorted(consumers[name]))} but nobody publishes it",
                "add an interaction from a publisher, or remove the consumer",
            )
        if not publishers[name] and not consumers[name]:
            yield finding(
                "warning",
                "unused-channel",
                [],
                f"channel `{name}` is declared but unused",
                "remove it or add interactions that use it",
            )
    yield from _partition_keys(spec, links)
    for name, message in spec.messages.items():
        # Messages imported with a contract come with it whether used or not.
        if name not in used_messages and not message.origin.startswith(("proto:", "openapi:")):
            yield finding(
                "warning",
                "unused-message",
                [],
                f"message `{name}` is defined but no operation, channel or interaction uses it",
                "remove it or use it",
            )


def _partition_keys(spec: LoadedSpec, links: list[Link]) -> Iterator[Finding]:
    """A stream's partition key is a top-level field of its message: producers read it from there."""
    for link in links:
        if link.pattern != "stream" or not link.inter.message:
            continue
        key = link.inter.ordering_key or (link.channel.key if link.channel else None)
        message = spec.messages.get(link.inter.message)
        if key is None or message is None:
            continue
        properties = message.schema.get("properties") or {}
        if key not in properties:
            known = ", ".join(f"`{name}`" for name in sorted(properties)) or "none"
            yield finding(
                "error",
                "stream-key-not-a-field",
                [link.id],
                f"partition key `{key}` is not a top-level field of message `{link.inter.message}` (fields: {known})",
                "name one of the message's own properties in `ordering_key` (or the channel's `key`)",
                link.line,
            )
