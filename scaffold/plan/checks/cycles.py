"""Synchronous cycles: services that end up waiting on themselves."""

from __future__ import annotations

from collections.abc import Iterator

from scaffold.plan.checks.findings import finding
from scaffold.plan.checks.graph import SyncGraph
from scaffold.plan.model import Finding
from scaffold.plan.resilience import Link


def check_cycles(graph: SyncGraph) -> Iterator[Finding]:
    # Follow calls the way `chains` and the timeout checks do, honouring `within`: a service that is
    # in a cycle only by its service names (A.Foo calls B.Bar, B.Qux calls A.Baz) never waits on
    # itself, and reporting it as an error was a false positive. A state is the service and the
    # operation it serves; a cycle returns to a state already on the path.
    reported: set[frozenset[str]] = set()

    def state(link: Link) -> tuple[str, str | None]:
        return (link.target.name, link.inter.operation)

    def visit(path: list[Link], on_path: dict[tuple[str, str | None], int]) -> Iterator[list[Link]]:
        last = path[-1]
        for link in graph.outgoing(last.target.name, last.inter.operation):
            nxt = state(link)
            if nxt in on_path:
                yield [*path[on_path[nxt] + 1 :], link]
            elif len(path) < 50:
                on_path[nxt] = len(path)
                yield from visit([*path, link], on_path)
                del on_path[nxt]

    order = {link.id: i for i, link in enumerate(graph.links)}
    for start in graph.links:
        for found in visit([start], {state(start): 0}):
            key = frozenset(link.id for link in found)
            if key in reported:
                continue
            reported.add(key)
            first = min(range(len(found)), key=lambda i: order[found[i].id])
            cycle = found[first:] + found[:first]  # start at the link written first in the spec
            loop = " -> ".join([cycle[0].source.name, *(link.target.name for link in cycle)])
            yield finding(
                "error",
                "sync-cycle",
                [link.id for link in cycle],
                f"synchronous cycle {loop}: each service waits on the next, so one slow call blocks them all",
                "break the cycle with a queue or stream (make one link background), or merge the services",
                cycle[0].line,
                length=len(cycle),
            )
