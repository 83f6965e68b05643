"""The synchronous links of a spec, indexed both ways: who may call whom while serving what.

Fitting timeouts and checking chains both walk this graph; the index keeps every step a lookup,
and ``components`` finds the cycles in linear time.
"""

from __future__ import annotations

from scaffold.plan.resilience import Link

SYNC = frozenset({"rest", "grpc"})

# A service and the operation it serves: what it may call next depends on both (`within`).
State = tuple[str, str | None]


def state(link: Link) -> State:
    """What the callee of ``link`` is doing while it serves the call."""
    return (link.target.name, link.inter.operation)


def applies(outgoing: Link, incoming_operation: str | None) -> bool:
    """Whether ``outgoing`` can be made while its source serves ``incoming_operation``."""
    return outgoing.inter.within is None or outgoing.inter.within == incoming_operation


class CallGraph:
    def __init__(self, links: list[Link]) -> None:
        self.links = [link for link in links if link.pattern in SYNC]
        self.order = {link.id: i for i, link in enumerate(self.links)}
        self._from: dict[str, list[Link]] = {}
        self._to: dict[str, list[Link]] = {}
        for link in self.links:
            self._from.setdefault(link.source.name, []).append(link)
            self._to.setdefault(link.target.name, []).append(link)
        self._outgoing: dict[State, list[Link]] = {}

    def outgoing(self, service: str, operation: str | None) -> list[Link]:
        """Synchronous calls ``service`` may make while serving ``operation``, in spec order."""
        key = (service, operation)
        if key not in self._outgoing:
            self._outgoing[key] = [link for link in self._from.get(service, []) if applies(link, operation)]
        return self._outgoing[key]

    def after(self, link: Link) -> list[Link]:
        """Calls the callee of ``link`` may make while serving it."""
        return self.outgoing(*state(link))

    def callers(self, link: Link) -> list[Link]:
        """Calls during which ``link`` may be made, in spec order."""
        return [c for c in self._to.get(link.source.name, []) if applies(link, c.inter.operation)]

    def unrolled(self) -> tuple[dict[str, list[Link]], list[Link]]:
        """The graph made acyclic: walked depth-first from each link in spec order, leaving out the
        calls that lead back to a link on the walk (they close a cycle). Returns the calls kept after
        each link, and every link listed after all the links it leads to."""
        kept: dict[str, list[Link]] = {}
        order: list[Link] = []
        on_walk: set[str] = set()
        for root in self.links:
            if root.id in kept:
                continue
            kept[root.id] = []
            on_walk.add(root.id)
            work: list[tuple[Link, int]] = [(root, 0)]
            while work:
                link, i = work[-1]
                nexts = self.after(link)
                if i == len(nexts):
                    work.pop()
                    on_walk.discard(link.id)
                    order.append(link)
                    continue
                work[-1] = (link, i + 1)
                n = nexts[i]
                if n.id in on_walk:
                    continue
                kept[link.id].append(n)
                if n.id not in kept:
                    kept[n.id] = []
                    on_walk.add(n.id)
                    work.append((n, 0))
        return kept, order

    def components(self) -> dict[str, int]:
        """Strongly connected components of links (a link leads to the calls made while serving it),
        by Tarjan's algorithm, iteratively so that a chain of any length fits in Python's stack."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        component: dict[str, int] = {}
        on_stack: list[Link] = []
        count = 0
        for root in self.links:
            if root.id in index:
                continue
            index[root.id] = low[root.id] = len(index)
            on_stack.append(root)
            work: list[tuple[Link, int]] = [(root, 0)]
            while work:
                link, i = work[-1]
                nexts = self.after(link)
                if i < len(nexts):
                    work[-1] = (link, i + 1)
                    n = nexts[i]
                    if n.id not in index:
                        index[n.id] = low[n.id] = len(index)
                        on_stack.append(n)
                        work.append((n, 0))
                    elif n.id not in component:
                        low[link.id] = min(low[link.id], index[n.id])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent.id] = min(low[parent.id], low[link.id])
                if low[link.id] == index[link.id]:
                    while True:
                        member = on_stack.pop()
                        component[member.id] = count
                        if member.id == link.id:
                            break
                    count += 1
        return component
