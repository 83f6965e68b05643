"""Spec in, plan out: decide each link's pattern, fit timeout budgets, fill in resilience.

Pure: no disk, no network. Timeouts are fitted top-down along synchronous chains: a callee's
calls get at most the time its caller gives it per attempt (less headroom for its own work),
shared among the calls it makes in sequence. Overridden or budgeted values are left as given and
checked instead.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

from scaffold import names
from scaffold.errors import Problem
from scaffold.plan.callgraph import SYNC, CallGraph
from scaffold.plan.checks import run_checks
from scaffold.plan.model import Finding, Plan, PlannedInteraction
from scaffold.plan.resilience import Cap, Link, chosen_on_purpose, settings
from scaffold.plan.rules import decide
from scaffold.spec.load import interaction_id
from scaffold.spec.resolved import LoadedSpec

# Share of a caller's per-attempt timeout that the callee may spend waiting on its own calls.
BUDGET_HEADROOM = 0.9


def build_plan(spec: LoadedSpec) -> Plan:
    links = _mark_retry_layers(_links(spec))
    planned = _fit(links)
    interactions = [
        PlannedInteraction(
            id=link.id,
            from_=link.inter.from_,
            to=link.inter.to,
            use_case=link.inter.use_case,
            operation=link.inter.operation,
            message=link.inter.message,
            channel=link.channel.name if link.channel and link.pattern in ("queue", "stream") else None,
            pattern=link.pattern,
            rule=decision_rule,
            reason=decision_reason,
            resilience=planned[link.id],
            line=link.line,
        )
        for link, (decision_rule, decision_reason) in links
    ]
    findings = run_checks(spec, [link for link, _ in links], interactions)
    findings += [_import_finding(problem) for problem in spec.warnings]
    order = {"error": 0, "warning": 1}
    findings.sort(key=lambda f: (order[f.severity], f.rule, f.interactions, f.message))
    return Plan(name=spec.name, interactions=interactions, findings=findings)


def _import_finding(problem: Problem) -> Finding:
    """What a contract import skipped or changed, located in the contract."""
    where = f"{problem.file}:{problem.line}" if problem.line else problem.file
    field = f"{problem.field}: " if problem.field else ""
    return Finding(
        severity="warning",
        rule="contract-import",
        interactions=[],
        message=f"{where}: {field}{problem.message}",
        fix=problem.hint or "nothing to do if this part of the contract is not needed",
    )


def _links(spec: LoadedSpec) -> list[tuple[Link, tuple[str, str]]]:
    out = []
    for index, inter in enumerate(spec.interactions):
        source, target = spec.endpoints[inter.from_], spec.endpoints[inter.to]
        op = target.operations.get(inter.operation) if inter.operation else None
        channel = None
        if inter.message is not None:
            channel = spec.channels.get(inter.channel or names.dotted(inter.message))
        decision = decide(inter, source, target, op)
        line = spec.interaction_positions[index][0] if spec.interaction_positions else 0
        link = Link(interaction_id(inter), inter, source, target, op, channel, decision.pattern, line)
        out.append((link, (decision.rule, decision.reason)))
    return out


def _mark_retry_layers(links: list[tuple[Link, Any]]) -> list[tuple[Link, Any]]:
    """Retry at one layer: the hop next to the failure. A call whose callee already retries its
    own calls is tried once, so attempts never multiply down a chain."""
    below = _retrying_below(CallGraph([link for link, _ in links]))
    return [(replace(link, retries_below=link.id in below) if link.pattern in SYNC else link, d) for link, d in links]


def _retrying_below(graph: CallGraph) -> set[str]:
    """The links whose callee makes a call that retries, or a call tried once below which one does.

    A call retries unless `max_attempts` says otherwise. Decided callees first, each link once, on
    the graph with its cycles cut where a depth-first walk in spec order closes them (in a cycle,
    the call that closes it retries and the others do not)."""
    kept, callees_first = graph.unrolled()
    below: set[str] = set()
    for link in callees_first:
        for n in kept[link.id]:
            given = n.overrides.get("max_attempts")
            if given is None or given > 1 or n.id in below:
                below.add(link.id)
                break
    return below


def _fit(links: list[tuple[Link, Any]]) -> dict[str, dict[str, Any]]:
    """Fit each synchronous link once all its callers are fitted (in topological order, Kahn's
    algorithm); asynchronous links take no budget from upstream."""
    graph = CallGraph([link for link, _ in links])
    done: dict[str, dict[str, Any]] = {}
    for link, _ in links:
        if link.pattern not in SYNC:
            done[link.id] = settings(link)
    callers = {link.id: graph.callers(link) for link in graph.links}
    waiting = {link.id: len(callers[link.id]) for link in graph.links}
    called_by: dict[str, list[Link]] = {}
    for link in graph.links:
        for caller in callers[link.id]:
            called_by.setdefault(caller.id, []).append(link)
    pending = dict.fromkeys(link.id for link in graph.links)  # in spec order
    by_id = {link.id: link for link in graph.links}
    ready = deque(link for link in graph.links if waiting[link.id] == 0)

    on_purpose: set[str] = set()

    def fit(link: Link) -> None:
        fitted = [c for c in callers[link.id] if c.id in done]
        cap = _cap(graph, fitted, done, on_purpose)
        done[link.id] = settings(link, cap)
        if chosen_on_purpose(link, done[link.id], cap):
            on_purpose.add(link.id)
        del pending[link.id]
        for n in called_by.get(link.id, []):
            waiting[n.id] -= 1
            if waiting[n.id] == 0 and n.id in pending:
                ready.append(n)

    while pending:
        while ready:
            link = ready.popleft()
            if link.id in pending:
                fit(link)
        if pending:
            # A cycle (the cycle check reports it): enter it at the first pending link, capped by the
            # callers already fitted, and go on top-down. Fitting all the rest without caps made the
            # hops above the cycle look like broken timeout budgets too.
            fit(by_id[next(iter(pending))])
    return done


def _cap(graph: CallGraph, callers: list[Link], done: dict[str, dict[str, Any]], on_purpose: set[str]) -> Cap | None:
    defaults: list[int] = []
    budgets: list[int] = []
    for caller in callers:
        values = done[caller.id]
        per_attempt = values.get("attempt_timeout_ms", values.get("total_timeout_ms"))
        if per_attempt is None:
            continue  # a stream: no deadline of its own to share out
        siblings = graph.after(caller)
        share = int(per_attempt * BUDGET_HEADROOM) // max(1, len(siblings))
        (budgets if caller.id in on_purpose else defaults).append(share)
    if not defaults and not budgets:
        return None
    return Cap(min(defaults) if defaults else None, min(budgets) if budgets else None)
