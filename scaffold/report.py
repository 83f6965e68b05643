"""Render plans, findings and the defaults table as text for people."""

from __future__ import annotations

from collections.abc import Sequence

import click

from scaffold.plan.defaults import DEFAULTS, schedule_text, value
from scaffold.plan.model import Finding, Plan, PlannedInteraction
from scaffold.plan.rules import RULES

# The values worth a glance in the plan table, per pattern.
KEY_VALUES = {
    "rest": (
        "attempt_timeout_ms",
        "total_timeout_ms",
        "max_attempts",
        "idempotency_key",
        "breaker_failure_threshold",
    ),
    "grpc": (
        "total_timeout_ms",
        "stream_idle_timeout_ms",
        "max_attempts",
        "retryable_status_codes",
        "breaker_failure_threshold",
    ),
    "queue": ("queue", "prefetch", "delivery_limit", "dead_letter_queue"),
    "stream": ("topic", "partition_key", "consumer_group", "dead_letter_topic"),
    "webhook": ("direction", "tolerance_s", "dedupe_on"),
}

SHORT = {
    "attempt_timeout_ms": "attempt",
    "total_timeout_ms": "total",
    "stream_idle_timeout_ms": "idle",
    "max_attempts": "tries",
    "idempotency_key": "idem-key",
    "breaker_failure_threshold": "breaker",
    "retryable_status_codes": "retry-on",
    "dead_letter_queue": "dlq",
    "dead_letter_topic": "dlt",
    "partition_key": "key",
    "consumer_group": "group",
    "delivery_limit": "delivery-limit",
}


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    return "-" if v is None else str(v)


def key_values(item: PlannedInteraction) -> str:
    parts = []
    for key in KEY_VALUES[item.pattern]:
        if key in item.resilience:
            v = item.resilience[key]
            unit = "ms" if key.endswith("_ms") else ("s" if key.endswith("_s") else "")
            parts.append(f"{SHORT.get(key, key)}={_value(v)}{unit}")
    return " ".join(parts)


def plan_text(plan: Plan, path: str, color: bool) -> str:
    rows = [
        [
            item.id,
            item.use_case,
            click.style(item.pattern, bold=True) if color else item.pattern,
            item.rule,
            key_values(item),
        ]
        for item in plan.interactions
    ]
    out = [table(["interaction", "use case", "pattern", "rule", "key resilience values"], rows)]
    out.append("")
    out.append("Why:")
    out += [f"  {item.id}: {item.reason}" for item in plan.interactions]
    if plan.findings:
        out.append("")
        out.append(findings_text(plan.findings, path, color))
    return "\n".join(out)


def finding_text(f: Finding, path: str, color: bool) -> str:
    label: str = f.severity
    if color:
        label = click.style(label, fg="red" if f.severity == "error" else "yellow", bold=True)
    where = f"{path}:{f.line}: " if path and f.line else (f"{path}: " if path else "")
    text = f"{where}{label}[{f.rule}] {f.message}"
    if f.interactions:
        text += "\n  interactions: " + ", ".join(f.interactions)
    if f.numbers:
        text += "\n  numbers: " + ", ".join(f"{k}={_value(v)}" for k, v in f.numbers.items())
    text += f"\n  fix: {f.fix}"
    return text


def findings_text(findings: Sequence[Finding], path: str, color: bool) -> str:
    return "\n".join(finding_text(f, path, color) for f in findings)


def explain_text() -> str:
    out = ["Decision table (first matching rule wins):", ""]
    out.append(table(["rule", "use case", "pattern", "when"], [[r.name, r.use_case, r.pattern, r.when] for r in RULES]))
    out += ["", "Resilience defaults and their sources:", ""]
    out.append(
        table(
            ["setting", "value", "source"],
            [[d.ref, _value(d.value), d.source] for d in DEFAULTS],
        )
    )
    out += ["", f"Webhook send schedule: {schedule_text(value('webhook', 'send_schedule_s', 'outbound'))}."]
    return "\n".join(out)
