"""Chains of synchronous calls: their depth and how retries multiply along them."""

from __future__ import annotations

from collections.abc import Iterator

from scaffold.plan.checks.findings import finding
from scaffold.plan.checks.graph import ChainDag, SyncGraph
from scaffold.plan.model import Finding
from scaffold.plan.resilience import Link
from scaffold.spec.resolved import LoadedSpec


def check_chains(spec: LoadedSpec, graph: SyncGraph) -> Iterator[Finding]:
    max_depth = spec.settings.max_sync_depth
    max_amp = spec.settings.max_retry_amplification
    for start in _entries(graph):
        dag = graph.chains_from(start)
        yield from _retry_layers(dag, max_amp)
        _, longest = dag.best(lambda _link: 1, lambda own, below: own + (below or 0))
        deepest = dag.follow(longest)
        if len(deepest) > max_depth:
            yield finding(
                "warning",
                "sync-chain-depth",
                [link.id for link in deepest],
                f"a user request waits on {len(deepest)} synchronous hops ({_path(deepest)}); "
                f"the limit is {max_depth}: a failure anywhere cascades to the user",
                "make hops that the user does not need to wait for asynchronous (background queue), "
                "or raise settings.max_sync_depth",
                start.line,
                depth=len(deepest),
                limit=max_depth,
            )
        amps, most = dag.best(graph.attempts, lambda own, below: own * (below or 1))
        amp = amps[start.id]
        if amp > max_amp:
            chain = dag.follow(most)
            yield finding(
                "error",
                "retry-amplification",
                [link.id for link in chain],
                f"retry storm: attempts multiply to {amp} along {_path(chain)} "
                f"(" + " x ".join(str(graph.attempts(link)) for link in chain) + f"), above {max_amp}",
                "retry at one layer only: set `resilience.max_attempts: 1` on the inner hops",
                start.line,
                attempts=amp,
                limit=max_amp,
            )


def _retry_layers(dag: ChainDag, max_amp: int) -> Iterator[Finding]:
    """Chains that retry at more than one layer, once per set of retrying hops (chains that branch
    below the last retrying hop share its layers), each with the path up to that hop: the first
    such path a depth-first walk meets.

    The retrying hops of a chain are found hop to hop: from each retrying link, the next retrying
    links reachable through links that do not retry. Attempts double at least with each layer, so
    at most log2(max_retry_amplification) layers stay within the limit and are listed."""
    graph = dag.graph
    start = dag.start

    def retries(link: Link) -> bool:
        return graph.attempts(link) > 1

    # Whether a chain can end after `link` without retrying again.
    quiet_end: dict[str, bool] = {}
    for link in dag.order:
        nexts = dag.next[link.id]
        quiet_end[link.id] = not nexts or any(not retries(n) and quiet_end[n.id] for n in nexts)

    # From `link`: the retrying links met next, each with the path to it (`link` excluded).
    def next_layers(link: Link) -> list[tuple[Link, list[Link]]]:
        parent: dict[str, Link] = {}
        found: list[Link] = []
        stack = [(link, 0)]
        while stack:
            here, i = stack[-1]
            nexts = dag.next[here.id]
            if i == len(nexts):
                stack.pop()
                continue
            stack[-1] = (here, i + 1)
            n = nexts[i]
            if n.id in parent or n.id == link.id:
                continue
            parent[n.id] = here
            if retries(n):
                found.append(n)
            else:
                stack.append((n, 0))
        out = []
        for layer in found:
            path = [layer]
            while (up := parent[path[-1].id]).id != link.id:
                path.append(up)
            out.append((layer, path[::-1]))
        return out

    memo: dict[str, list[tuple[Link, list[Link]]]] = {}

    def layers_after(link: Link) -> list[tuple[Link, list[Link]]]:
        if link.id not in memo:
            memo[link.id] = next_layers(link)
        return memo[link.id]

    def extend(layers: list[Link], amp: int, path: list[Link]) -> Iterator[Finding]:
        last = layers[-1]
        if len(layers) > 1 and quiet_end[last.id]:
            yield finding(
                "warning",
                "retry-layers",
                [link.id for link in layers],
                f"retries at {len(layers)} layers of one chain ({_path(path)}): "
                f"the last service sees up to {amp} attempts per user request",
                "retry at one layer only: scaffold's default retries only at the hop next to the failure; "
                "drop the `max_attempts` overrides that add layers",
                start.line,
                layers=len(layers),
                attempts=amp,
            )
        for layer, way in layers_after(last):
            more = amp * graph.attempts(layer)
            if more <= max_amp:
                yield from extend([*layers, layer], more, [*path, *way])

    if retries(start):
        if graph.attempts(start) <= max_amp:
            yield from extend([start], graph.attempts(start), [start])
        return
    for layer, way in layers_after(start):
        if graph.attempts(layer) <= max_amp:
            yield from extend([layer], graph.attempts(layer), [start, *way])


def _entries(graph: SyncGraph) -> list[Link]:
    """User-facing calls where a user's request enters: from the edge, or from a service nobody calls."""
    user_facing = [link for link in graph.links if link.inter.use_case == "user-facing"]
    called = {link.target.name for link in user_facing}
    return [link for link in user_facing if not link.source.is_service or link.source.name not in called]


def _path(chain: list[Link]) -> str:
    return " -> ".join([chain[0].source.name, *(link.target.name for link in chain)])
