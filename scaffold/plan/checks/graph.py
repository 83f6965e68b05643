"""The synchronous call graph: who may call whom while serving which operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaffold.plan.checks.findings import SYNC
from scaffold.plan.model import PlannedInteraction
from scaffold.plan.resilience import Link


class SyncGraph:
    def __init__(self, links: list[Link], planned: dict[str, PlannedInteraction]) -> None:
        self.links = [link for link in links if link.pattern in SYNC]
        self.planned = planned

    def outgoing(self, service: str, operation: str | None) -> list[Link]:
        """Synchronous calls ``service`` may make while serving ``operation``."""
        return [
            link
            for link in self.links
            if link.source.name == service and (link.inter.within is None or link.inter.within == operation)
        ]

    def values(self, link: Link) -> dict[str, Any]:
        return self.planned[link.id].resilience

    def attempts(self, link: Link) -> int:
        v = self.values(link)
        return int(v["max_attempts"]) * (1 + int(v["mesh_retry_attempts"]))

    def chains(self, start: Link, limit: int = 50) -> Iterator[list[Link]]:
        """Every maximal acyclic chain of calls starting with ``start``."""

        def walk(path: list[Link]) -> Iterator[list[Link]]:
            last = path[-1]
            seen = {link.source.name for link in path} | {last.target.name}
            nexts = [n for n in self.outgoing(last.target.name, last.inter.operation) if n.target.name not in seen]
            if not nexts or len(path) >= limit:
                yield path
                return
            for n in nexts:
                yield from walk([*path, n])

        yield from walk([start])
