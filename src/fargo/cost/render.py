"""Estimate → text (pure): a table per line item, subtotals per stack, the totals."""

from __future__ import annotations

from fargo.cost.lines import Estimate, Line
from fargo.cost.prices import UNCONFIRMED


def money(value: float) -> str:
    return f"${value:,.2f}"


def _row(line: Line) -> str:
    monthly = money(line.monthly)
    if line.price.is_range:
        monthly = f"{money(line.low)}-{money(line.monthly)}"
    quantity = f"{line.quantity:,.2f} {line.price.unit}"
    return (
        f"  {line.resource:<26} {line.item[:48]:<48} {quantity:>24} "
        f"{line.price.render():>20} {monthly:>17}  {line.price.as_of}"
    )


def render_estimate(estimate: Estimate) -> str:
    header = (
        f"  {'resource':<26} {'item':<48} {'quantity / month':>24} "
        f"{'unit price':>20} {'monthly':>17}  as of"
    )
    lines: list[str] = []
    totals = estimate.stack_totals()
    for stack, total in totals.items():
        lines.append(f"{stack}:")
        lines.append(header)
        lines.extend(_row(line) for line in estimate.lines if line.stack == stack)
        lines.append(f"  {'subtotal':<26} {'':<48} {'':>24} {'':>20} {money(total):>17}")
    lines.append(f"always on:  {money(estimate.monthly_total)} a month ({estimate.region})")
    if round(estimate.low_total, 2) != round(estimate.monthly_total, 2):
        lines.append(f"  with Spot at its low end: {money(estimate.low_total)}")
    if round(estimate.idle_total, 2) != round(estimate.monthly_total, 2):
        lines.append(
            f"idle:       {money(estimate.idle_total)} a month (no traffic, minimum scale)"
        )
    lines.append(f"busy:       {money(estimate.busy_total)} a month (maximum scale)")
    lines.append(f"assuming {estimate.usage.describe()}")
    if any(not line.price.confirmed for line in estimate.lines):
        lines.append(UNCONFIRMED)
    for gap in estimate.unpriced:
        lines.append(f"  {gap.stack} {gap.resource:<26} {gap.type}: not priced")
    if estimate.unpriced:
        lines.append(
            f"warning: {len(estimate.unpriced)} resource(s) not priced, so the totals leave "
            "them out: " + "; ".join(f"{g.resource}: {g.reason}" for g in estimate.unpriced)
        )
    return "\n".join(lines)


def render_markdown(estimate: Estimate, *, smallest: float = 0.5) -> str:
    """The estimate as a short Markdown table for documents: line items of `smallest`
    dollars a month or more, the rest summed in one row, then the totals."""
    rows = ["| resource | item | monthly |", "|---|---|---:|"]
    rest = 0.0
    for line in estimate.lines:
        if line.monthly < smallest:
            rest += line.monthly
            continue
        figure = money(line.monthly)
        if line.price.is_range:
            figure = f"{money(line.low)}-{figure}"
        rows.append(f"| {line.resource} | {line.item} | {figure} |")
    rows.append(f"| everything else | {_small(smallest)} | {money(rest)} |")
    rows.append(f"| **always on** | | **{money(estimate.monthly_total)}** |")
    if round(estimate.idle_total, 2) != round(estimate.monthly_total, 2):
        rows.append(f"| idle | minimum scale, no traffic | {money(estimate.idle_total)} |")
    rows.append(f"| busy | maximum scale | {money(estimate.busy_total)} |")
    return "\n".join(rows)


def _small(smallest: float) -> str:
    return f"items under {money(smallest)} a month each (alarms, logs, requests, storage)"
