"""Architecture checks over a whole plan: link shapes and settings, cycles, chains, budgets, channels.

Each check is a pure function returning findings that name the interactions, the rule, the
numbers and a fix. The plan's values are decided elsewhere (scaffold.plan.resilience); here they
are only judged.
"""

from __future__ import annotations

from scaffold.plan.checks.budgets import check_timeout_budgets
from scaffold.plan.checks.chains import check_chains
from scaffold.plan.checks.channels import check_channels
from scaffold.plan.checks.cycles import check_cycles
from scaffold.plan.checks.graph import SyncGraph
from scaffold.plan.checks.settings import check_settings
from scaffold.plan.checks.shapes import check_shapes
from scaffold.plan.model import Finding, PlannedInteraction
from scaffold.plan.resilience import Link
from scaffold.spec.resolved import LoadedSpec


def run_checks(spec: LoadedSpec, links: list[Link], planned: list[PlannedInteraction]) -> list[Finding]:
    by_id = {p.id: p for p in planned}
    graph = SyncGraph(links, by_id)
    return [
        *check_settings(links, by_id),
        *check_shapes(links),
        *check_cycles(graph),
        *check_chains(spec, graph),
        *check_timeout_budgets(graph),
        *check_channels(spec, links),
    ]
