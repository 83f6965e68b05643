"""Timeout budgets: a caller waits at least as long as its callee may wait on its own calls."""

from __future__ import annotations

from collections.abc import Iterator

from scaffold.plan.checks.findings import finding
from scaffold.plan.checks.graph import SyncGraph
from scaffold.plan.model import Finding


def check_timeout_budgets(graph: SyncGraph) -> Iterator[Finding]:
    for link in graph.links:
        values = graph.values(link)
        if "total_timeout_ms" not in values:
            continue  # a gRPC stream has no deadline: nothing to fit
        total = int(values["total_timeout_ms"])
        attempt = int(values.get("attempt_timeout_ms", total))
        inner = graph.outgoing(link.target.name, link.inter.operation)
        worst = sum(int(graph.values(n).get("total_timeout_ms", 0)) for n in inner)
        ids = [link.id, *(n.id for n in inner)]
        budget = link.inter.latency_budget_ms
        if budget is not None and total > budget:
            yield finding(
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
            yield finding(
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
            yield finding(
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
