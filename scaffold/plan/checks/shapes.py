"""The shape of each link: its pattern fits what it carries and what the caller needs."""

from __future__ import annotations

from collections.abc import Iterator

from scaffold.plan.checks.findings import ASYNC, SYNC, finding
from scaffold.plan.model import Finding
from scaffold.plan.resilience import Link


def check_shapes(links: list[Link]) -> Iterator[Finding]:
    for link in links:
        inter = link.inter
        sync_use = inter.use_case in ("user-facing", "high-throughput-internal")
        async_use = inter.use_case in ("background", "analytics")
        if inter.pattern is not None and not inter.reason:
            yield finding(
                "error",
                "override-reason",
                [link.id],
                f"`pattern: {inter.pattern}` overrides the decision for a {inter.use_case} link without a reason",
                "add `reason:` saying why the guide's choice does not fit",
                link.line,
            )
        if link.pattern in SYNC and inter.operation is None:
            yield finding(
                "error",
                "pattern-shape",
                [link.id],
                f"a {link.pattern} link calls an operation, but this one carries message `{inter.message}`",
                "name an `operation` of the callee, or pick an async pattern",
                link.line,
            )
        if link.pattern in ASYNC | {"webhook"} and inter.message is None:
            yield finding(
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
            yield finding(
                "warning",
                "response-needed",
                [link.id],
                f"the caller needs an immediate response but the link is {link.pattern}",
                "make it synchronous (use_case: user-facing) or return a job id the caller polls",
                link.line,
            )
        if inter.needs_immediate_response is False and async_use is False and link.pattern in SYNC:
            yield finding(
                "warning",
                "response-not-needed",
                [link.id],
                "nobody needs an immediate response, yet the caller blocks on a synchronous call",
                "consider `use_case: background` (a queue) to decouple the services",
                link.line,
            )
