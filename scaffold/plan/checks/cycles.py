"""Synchronous cycles: services that end up waiting on themselves."""

from __future__ import annotations

from collections.abc import Iterator

from scaffold.plan.checks.findings import finding
from scaffold.plan.checks.graph import SyncGraph
from scaffold.plan.model import Finding


def check_cycles(graph: SyncGraph) -> Iterator[Finding]:
    # Calls are followed honouring `within`: a service that is in a cycle only by its service names
    # (A.Foo calls B.Bar, B.Qux calls A.Baz) never waits on itself, and reporting it was a false
    # positive. Every link on a cycle is named with the shortest cycle through it; listing every
    # cycle instead would take exponential time on graphs where many paths share services.
    reported: set[frozenset[str]] = set()
    for link in graph.links:
        found = graph.shortest_cycle(link)
        if found is None:
            continue
        key = frozenset(n.id for n in found)
        if key in reported:
            continue
        reported.add(key)
        first = min(range(len(found)), key=lambda i: graph.order[found[i].id])
        cycle = found[first:] + found[:first]  # start at the link written first in the spec
        loop = " -> ".join([cycle[0].source.name, *(n.target.name for n in cycle)])
        yield finding(
            "error",
            "sync-cycle",
            [n.id for n in cycle],
            f"synchronous cycle {loop}: each service waits on the next, so one slow call blocks them all",
            "break the cycle with a queue or stream (make one link background), or merge the services",
            cycle[0].line,
            length=len(cycle),
        )
