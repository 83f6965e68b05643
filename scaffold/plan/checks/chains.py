"""Chains of synchronous calls: their depth and how retries multiply along them."""

from __future__ import annotations

from collections.abc import Iterator

from scaffold.plan.checks.findings import finding
from scaffold.plan.checks.graph import SyncGraph
from scaffold.plan.model import Finding
from scaffold.plan.resilience import Link
from scaffold.spec.resolved import LoadedSpec


def check_chains(spec: LoadedSpec, graph: SyncGraph) -> Iterator[Finding]:
    max_depth = spec.settings.max_sync_depth
    max_amp = spec.settings.max_retry_amplification
    for start in _entries(graph):
        deepest: list[Link] = []
        reported_layers: set[tuple[str, ...]] = set()
        worst_amp: tuple[int, list[Link]] = (1, [])
        for chain in graph.chains(start):
            if len(chain) > len(deepest):
                deepest = chain
            amp = 1
            for link in chain:
                amp *= graph.attempts(link)
            if amp > worst_amp[0]:
                worst_amp = (amp, chain)
            retrying = [link for link in chain if graph.attempts(link) > 1]
            layers = tuple(link.id for link in retrying)
            # Chains that branch below the last retrying hop share its layers: report them once, with
            # the path up to that hop (it used to be reported once per branch).
            if len(retrying) > 1 and amp <= max_amp and layers not in reported_layers:
                reported_layers.add(layers)
                upto = chain[: chain.index(retrying[-1]) + 1]
                yield finding(
                    "warning",
                    "retry-layers",
                    list(layers),
                    f"retries at {len(retrying)} layers of one chain ({_path(upto)}): "
                    f"the last service sees up to {amp} attempts per user request",
                    "retry at one layer only: scaffold's default retries only at the hop next to the failure; "
                    "drop the `max_attempts` overrides that add layers",
                    start.line,
                    layers=len(retrying),
                    attempts=amp,
                )
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
        amp, chain = worst_amp
        if amp > max_amp:
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


def _entries(graph: SyncGraph) -> list[Link]:
    """User-facing calls where a user's request enters: from the edge, or from a service nobody calls."""
    user_facing = [link for link in graph.links if link.inter.use_case == "user-facing"]
    called = {link.target.name for link in user_facing}
    return [link for link in user_facing if not link.source.is_service or link.source.name not in called]


def _path(chain: list[Link]) -> str:
    return " -> ".join([chain[0].source.name, *(link.target.name for link in chain)])
