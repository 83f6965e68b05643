"""Architecture checks over a whole plan: cycles, chains, budgets, retry storms, dead channels.

Each check is a pure function returning findings that name the interactions, the rule, the
numbers and a fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scaffold.plan.model import Finding, PlannedInteraction
from scaffold.plan.resilience import Link
from scaffold.spec.resolved import LoadedSpec

SYNC = frozenset({"rest", "grpc"})
ASYNC = frozenset({"queue", "stream"})


def run_checks(spec: LoadedSpec, links: list[Link], planned: list[PlannedInteraction]) -> list[Finding]:
    by_id = {p.id: p for p in planned}
    graph = _SyncGraph(links, by_id)
    return [
        *check_shapes(links),
        *check_cycles(graph),
        *check_chains(spec, graph),
        *check_timeout_budgets(graph),
        *check_channels(spec, links),
    ]


def _finding(
    severity: str, rule: str, ids: list[str], message: str, fix: str, line: int = 0, **numbers: Any
) -> Finding:
    return Finding(
        severity=severity,
        rule=rule,
        interactions=ids,
        message=message,
        numbers=numbers,
        fix=fix,
        line=line,
    )


# -- the shape of each link -------------------------------------------------------------------
def check_shapes(links: list[Link]) -> Iterator[Finding]:
    for link in links:
        inter = link.inter
        sync_use = inter.use_case in ("user-facing", "high-throughput-internal")
        async_use = inter.use_case in ("background", "analytics")
        if inter.pattern is not None and not inter.reason:
            yield _finding(
                "error",
                "override-reason",
                [link.id],
                f"`pattern: {inter.pattern}` overrides the decision for a {inter.use_case} link without a reason",
                "add `reason:` saying why the guide's choice does not fit",
                link.line,
            )
        if link.pattern in SYNC and inter.operation is None:
            yield _finding(
                "error",
                "pattern-shape",
                [link.id],
                f"a {link.pattern} link calls an operation, but this one carries message `{inter.message}`",
                "name an `operation` of the callee, or pick an async pattern",
                link.line,
            )
        if link.pattern in ASYNC | {"webhook"} and inter.message is None:
            yield _finding(
                "error",
                "pattern-shape",
                [link.id],
                f"a {link.pattern} link carries a message, but this one calls `{inter.operation}`",
                "name the `message` that flows, or pick a synchronous pattern",
                link.line,
            )
        if inter.pattern is not None and inter.reason and sync_use and link.pattern in ASYNC:
            continue  # deliberate and explained
        if inter.needs_immediate_response is True and link.pattern not in SYNC:
            yield _finding(
                "warning",
                "response-needed",
                [link.id],
                f"the caller needs an immediate response but the link is {link.pattern}",
                "make it synchronous (use_case: user-facing) or return a job id the caller polls",
                link.line,
            )
        if inter.needs_immediate_response is False and async_use is False and link.pattern in SYNC:
            yield _finding(
                "warning",
                "response-not-needed",
                [link.id],
                "nobody needs an immediate response, yet the caller blocks on a synchronous call",
                "consider `use_case: background` (a queue) to decouple the services",
                link.line,
            )


# -- the synchronous call graph ---------------------------------------------------------------
class _SyncGraph:
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


def check_cycles(graph: _SyncGraph) -> Iterator[Finding]:
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
            yield _finding(
                "error",
                "sync-cycle",
                [link.id for link in cycle],
                f"synchronous cycle {loop}: each service waits on the next, so one slow call blocks them all",
                "break the cycle with a queue or stream (make one link background), or merge the services",
                cycle[0].line,
                length=len(cycle),
            )


def check_chains(spec: LoadedSpec, graph: _SyncGraph) -> Iterator[Finding]:
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
                yield _finding(
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
            yield _finding(
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
            yield _finding(
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


def _entries(graph: _SyncGraph) -> list[Link]:
    """User-facing calls where a user's request enters: from the edge, or from a service nobody calls."""
    user_facing = [link for link in graph.links if link.inter.use_case == "user-facing"]
    called = {link.target.name for link in user_facing}
    return [link for link in user_facing if not link.source.is_service or link.source.name not in called]


def _path(chain: list[Link]) -> str:
    return " -> ".join([chain[0].source.name, *(link.target.name for link in chain)])


def check_timeout_budgets(graph: _SyncGraph) -> Iterator[Finding]:
    for link in graph.links:
        values = graph.values(link)
        total = int(values["total_timeout_ms"])
        attempt = int(values.get("attempt_timeout_ms", total))
        inner = graph.outgoing(link.target.name, link.inter.operation)
        worst = sum(int(graph.values(n)["total_timeout_ms"]) for n in inner)
        ids = [link.id, *(n.id for n in inner)]
        budget = link.inter.latency_budget_ms
        if budget is not None and total > budget:
            yield _finding(
                "error",
                "latency-budget",
                [link.id],
                f"the declared latency budget is {budget} ms but the link may take {total} ms",
                "lower `resilience.total_timeout_ms` to the budget, or raise `latency_budget_ms`",
                link.line,
                budget_ms=budget,
                total_timeout_ms=total,
            )
        if not inner:
            continue
        if total < worst:
            yield _finding(
                "error",
                "timeout-budget",
                ids,
                f"`{link.source.name}` waits at most {total} ms for `{link.target.name}`, but "
                f"`{link.target.name}` may wait {worst} ms on its own calls: the caller gives up while the "
                "callee still works",
                f"raise this link's total timeout above {worst} ms or lower the inner timeouts",
                link.line,
                caller_total_ms=total,
                callee_worst_ms=worst,
            )
        elif attempt < worst:
            yield _finding(
                "warning",
                "timeout-budget",
                ids,
                f"one attempt of `{link.source.name}` -> `{link.target.name}` lasts {attempt} ms, but "
                f"`{link.target.name}` may wait {worst} ms on its own calls: retries start while work is "
                "still running",
                f"raise attempt_timeout_ms above {worst} ms or lower the inner timeouts",
                link.line,
                caller_attempt_ms=attempt,
                callee_worst_ms=worst,
            )


# -- channels and messages -------------------------------------------------------------------
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
            yield _finding(
                "warning",
                "unconsumed-channel",
                [],
                f"channel `{name}` is published by {', '.join(sorted(publishers[name]))} but nobody consumes it",
                "add an interaction to a consumer, or stop publishing it",
            )
        if consumers[name] and not publishers[name]:
            yield _finding(
                "warning",
                "unpublished-channel",
                [],
                f"channel `{name}` is consumed by {', '.join(sorted(consumers[name]))} but nobody publishes it",
                "add an interaction from a publisher, or remove the consumer",
            )
        if not publishers[name] and not consumers[name]:
            yield _finding(
                "warning",
                "unused-channel",
                [],
                f"channel `{name}` is declared but unused",
                "remove it or add interactions that use it",
            )
    for name, message in spec.messages.items():
        # Messages imported with a contract come with it whether used or not.
        if name not in used_messages and not message.origin.startswith(("proto:", "openapi:")):
            yield _finding(
                "warning",
                "unused-message",
                [],
                f"message `{name}` is defined but no operation, channel or interaction uses it",
                "remove it or use it",
            )
