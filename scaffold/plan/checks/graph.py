"""The synchronous call graph: who may call whom while serving which operation.

Chains are never enumerated (their number grows exponentially with shared callees): the checks
walk each link once and combine what they learnt (dynamic programming), so they stay polynomial
on any graph.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from scaffold.plan.callgraph import CallGraph
from scaffold.plan.model import PlannedInteraction
from scaffold.plan.resilience import Link


class SyncGraph(CallGraph):
    """The call graph with the planned settings of each link."""

    def __init__(self, links: list[Link], planned: dict[str, PlannedInteraction]) -> None:
        super().__init__(links)
        self.planned = planned
        self._components: dict[str, int] | None = None

    def values(self, link: Link) -> dict[str, Any]:
        return self.planned[link.id].resilience

    def attempts(self, link: Link) -> int:
        v = self.values(link)
        return int(v["max_attempts"]) * (1 + int(v["mesh_retry_attempts"]))

    def chains_from(self, start: Link) -> ChainDag:
        return ChainDag(self, start)

    def shortest_cycle(self, first: Link) -> list[Link] | None:
        """The shortest chain of calls that starts with ``first`` and comes back to make it again
        (breadth-first, ties broken by spec order), or None when ``first`` is on no cycle."""
        if self._components is None:
            self._components = self.components()
        component = self._components
        parent: dict[str, Link | None] = {first.id: None}
        queue = deque([first])
        while queue:
            link = queue.popleft()
            nexts = [n for n in self.after(link) if component[n.id] == component[first.id]]
            if any(n.id == first.id for n in nexts):
                path = [link]
                while (up := parent[path[-1].id]) is not None:
                    path.append(up)
                return path[::-1]
            for n in nexts:
                if n.id not in parent:
                    parent[n.id] = link
                    queue.append(n)
        return None


class ChainDag:
    """The chains of calls a user request starting with ``start`` may wait on.

    A chain never returns to a service already on it. Walked depth-first in spec order, each link
    once: ``next[link]`` keeps the calls that continue a chain through it (those that would return
    to a service of the chain that reached it first are left out, which cuts every cycle), and
    ``order`` lists the links callees first, so values can be combined bottom-up.
    """

    def __init__(self, graph: SyncGraph, start: Link) -> None:
        self.graph = graph
        self.start = start
        self.next: dict[str, list[Link]] = {}
        self.order: list[Link] = []
        self.by_id: dict[str, Link] = {}
        self._walk()

    def _walk(self) -> None:
        # Iterative, so that a chain of any length fits in Python's stack.
        self._visit(self.start, [self.start.source.name])
        stack: list[tuple[Link, int]] = [(self.start, 0)]
        services = [self.start.source.name, self.start.target.name]
        while stack:
            link, i = stack[-1]
            nexts = self.next[link.id]
            if i < len(nexts):
                stack[-1] = (link, i + 1)
                n = nexts[i]
                if n.id not in self.next:
                    self._visit(n, services)
                    stack.append((n, 0))
                    services.append(n.target.name)
            else:
                stack.pop()
                services.pop()
                self.order.append(link)

    def _visit(self, link: Link, services_before: list[str]) -> None:
        seen = {*services_before, link.target.name}
        self.by_id[link.id] = link
        self.next[link.id] = [n for n in self.graph.after(link) if n.target.name not in seen]

    def best(self, weight: Any, combine: Any) -> tuple[dict[str, Any], dict[str, Link | None]]:
        """For each link, the best value of ``combine(weight(link), best of a next link)`` over the
        chains through it, and which next link gives it (the first in spec order among equals, so
        the chain found is the first such chain a depth-first walk would meet)."""
        score: dict[str, Any] = {}
        choice: dict[str, Link | None] = {}
        for link in self.order:
            top: Link | None = None
            for n in self.next[link.id]:
                if top is None or score[n.id] > score[top.id]:
                    top = n
            score[link.id] = combine(weight(link), score[top.id] if top else None)
            choice[link.id] = top
        return score, choice

    def follow(self, choice: dict[str, Link | None]) -> list[Link]:
        chain = [self.start]
        while (n := choice[chain[-1].id]) is not None:
            chain.append(n)
        return chain
