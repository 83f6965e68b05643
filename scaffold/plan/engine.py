"""Spec in, plan out: decide each link's pattern, fit timeout budgets, fill in resilience.

Pure: no disk, no network. Timeouts are fitted top-down along synchronous chains: a callee's
calls get at most the time its caller gives it per attempt (less headroom for its own work),
shared among the calls it makes in sequence. Overridden or budgeted values are left as given and
checked instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scaffold import names
from scaffold.plan.checks import run_checks
from scaffold.plan.model import Plan, PlannedInteraction
from scaffold.plan.resilience import Link, settings
from scaffold.plan.rules import decide
from scaffold.spec.load import interaction_id
from scaffold.spec.resolved import LoadedSpec

# Share of a caller's per-attempt timeout that the callee may spend waiting on its own calls.
BUDGET_HEADROOM = 0.9

SYNC = frozenset({"rest", "grpc"})


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
    order = {"error": 0, "warning": 1}
    findings.sort(key=lambda f: (order[f.severity], f.rule, f.interactions, f.message))
    return Plan(name=spec.name, interactions=interactions, findings=findings)


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
    sync = [link for link, _ in links if link.pattern in SYNC]
    memo: dict[str, bool] = {}

    def retries(link: Link, visiting: frozenset[str]) -> bool:
        """Whether ``link`` itself retries by default."""
        if link.id not in memo:
            if link.id in visiting:
                return False
            given = link.overrides.get("max_attempts")
            if given is not None:
                memo[link.id] = given > 1
            else:
                memo[link.id] = not below(link, visiting | {link.id})
        return memo[link.id]

    def below(link: Link, visiting: frozenset[str]) -> bool:
        inner = [s for s in sync if s.source.name == link.target.name and applies(s, link.inter.operation)]
        return any(s.id not in visiting and (retries(s, visiting) or below(s, visiting | {s.id})) for s in inner)

    return [
        (replace(link, retries_below=below(link, frozenset({link.id}))) if link.pattern in SYNC else link, d)
        for link, d in links
    ]


def applies(outgoing: Link, incoming_operation: str | None) -> bool:
    """Whether ``outgoing`` can be made while its source serves ``incoming_operation``."""
    return outgoing.inter.within is None or outgoing.inter.within == incoming_operation


def _fit(links: list[tuple[Link, Any]]) -> dict[str, dict[str, Any]]:
    all_links = [link for link, _ in links]
    sync = [link for link in all_links if link.pattern in SYNC]
    done: dict[str, dict[str, Any]] = {}
    for link in all_links:
        if link.pattern not in SYNC:
            done[link.id] = settings(link)
    pending = list(sync)
    while pending:
        progressed = False
        for link in list(pending):
            callers = [c for c in sync if c.target.name == link.source.name and applies(link, c.inter.operation)]
            if any(c.id not in done for c in callers):
                continue
            done[link.id] = settings(link, _cap(link, callers, sync, done))
            pending.remove(link)
            progressed = True
        if not progressed:
            # A cycle (the cycle check reports it): enter it at the first pending link, capped by the
            # callers already fitted, and go on top-down. Fitting all the rest without caps made the
            # hops above the cycle look like broken timeout budgets too.
            link = pending.pop(0)
            callers = [c for c in sync if c.target.name == link.source.name and applies(link, c.inter.operation)]
            done[link.id] = settings(link, _cap(link, [c for c in callers if c.id in done], sync, done))
    return done


def _cap(link: Link, callers: list[Link], sync: list[Link], done: dict[str, dict[str, Any]]) -> int | None:
    caps = []
    for caller in callers:
        values = done[caller.id]
        per_attempt = values.get("attempt_timeout_ms", values["total_timeout_ms"])
        siblings = [s for s in sync if s.source.name == link.source.name and applies(s, caller.inter.operation)]
        caps.append(int(per_attempt * BUDGET_HEADROOM) // max(1, len(siblings)))
    return min(caps) if caps else None
