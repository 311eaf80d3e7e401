"""An estimate as data: one line per billed item, with three monthly figures.

- `monthly`: always on. Every service and database awake all month at its floor (a service
  that scales from zero counts one task, Aurora at 0 ACU counts 0.5), plus usage-billed
  items under the stated assumptions. Spot at the high end of its range.
- `idle`: nothing happening. Services and Aurora at their configured minimum (0 where they
  scale to zero or pause), no usage-billed items.
- `busy`: every service at its maximum count and Aurora at its maximum ACU.
`low` is `monthly` at the low end of a Spot range (equal to `monthly` otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fargo.cost.prices import Price
from fargo.cost.usage import Usage


def money(value: float) -> str:
    return f"${value:,.2f}"


@dataclass(frozen=True)
class Line:
    stack: str
    resource: str  # the template's logical id
    item: str  # what is billed, in AWS's words
    quantity: float  # units a month, always on
    price: Price
    monthly: float
    idle: float
    busy: float
    low: float

    @property
    def key(self) -> tuple[str, str, str]:
        """Identifies a line across two estimates (plan's before and after)."""
        return (self.stack, self.resource, self.price.key)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "resource": self.resource,
            "stack": self.stack,
            "item": self.item,
            "quantity": round(self.quantity, 4),
            "unit": self.price.unit,
            "unit_price": self.price.price,
            "confirmed": self.price.confirmed,
            "monthly": round(self.monthly, 2),
            "idle": round(self.idle, 2),
            "busy": round(self.busy, 2),
            "source": {
                "key": self.price.key,
                "url": self.price.source,
                "as_of": self.price.as_of,
            },
        }
        if self.price.is_range:
            body["unit_price_low"] = self.price.low
            body["monthly_low"] = round(self.low, 2)
        return body


def fixed(
    stack: str,
    resource: str,
    item: str,
    quantity: float,
    price: Price,
    *,
    busy: float | None = None,
) -> Line:
    """A line that costs the same awake or idle (hours x rate): `busy` is the quantity at
    maximum scale when it differs."""
    return Line(
        stack,
        resource,
        item,
        quantity,
        price,
        monthly=quantity * price.high,
        idle=quantity * price.high,
        busy=(quantity if busy is None else busy) * price.high,
        low=quantity * price.low,
    )


def scaled(
    stack: str,
    resource: str,
    item: str,
    per_unit: float,
    *,
    counts: tuple[float, float, float],
    price: Price,
) -> Line:
    """A line billed per running task (or per awake unit): `per_unit` units a month each,
    at the (idle, always-on, busy) counts."""
    idle, on, busy = counts
    return Line(
        stack,
        resource,
        item,
        on * per_unit,
        price,
        monthly=on * per_unit * price.high,
        idle=idle * per_unit * price.high,
        busy=busy * per_unit * price.high,
        low=on * per_unit * price.low,
    )


def usage(stack: str, resource: str, item: str, quantity: float, price: Price) -> Line:
    """A line billed by use: nothing while idle."""
    cost = quantity * price.high
    return Line(stack, resource, item, quantity, price, cost, 0.0, cost, quantity * price.low)


@dataclass(frozen=True)
class Unpriced:
    """A resource the estimate leaves out, said out loud: a type no pricer knows, or a
    size (instance class, node type) the region's price table has no line for."""

    stack: str
    resource: str  # the template's logical id
    type: str  # the CloudFormation resource type
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "stack": self.stack,
            "resource": self.resource,
            "type": self.type,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Estimate:
    region: str
    usage: Usage
    lines: tuple[Line, ...]
    unpriced: tuple[Unpriced, ...] = field(default_factory=tuple)

    @property
    def monthly_total(self) -> float:
        return _sum(line.monthly for line in self.lines)

    @property
    def low_total(self) -> float:
        return _sum(line.low for line in self.lines)

    @property
    def idle_total(self) -> float:
        return _sum(line.idle for line in self.lines)

    @property
    def busy_total(self) -> float:
        return _sum(line.busy for line in self.lines)

    def stack_totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.stack] = totals.get(line.stack, 0.0) + line.monthly
        return totals

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "region": self.region,
            "currency": "USD",
            "monthly_total": round(self.monthly_total, 2),
        }
        if round(self.low_total, 2) != body["monthly_total"]:
            body["monthly_low"] = round(self.low_total, 2)
        if round(self.idle_total, 2) != body["monthly_total"]:
            body["idle_total"] = round(self.idle_total, 2)
        body["busy_total"] = round(self.busy_total, 2)
        body["stacks"] = {name: round(v, 2) for name, v in self.stack_totals().items()}
        body["assumptions"] = self.usage.to_json()
        body["lines"] = [line.to_json() for line in self.lines]
        body["unpriced"] = [gap.to_json() for gap in self.unpriced]
        return body


def _sum(values: Iterable[float]) -> float:
    return float(sum(values))


@dataclass(frozen=True)
class CostDelta:
    before: Estimate
    after: Estimate

    def changes(self) -> list[tuple[str, str, str, float, float]]:
        """(stack, resource, item, before, after) for every line whose monthly figure moves."""
        before = {line.key: line for line in self.before.lines}
        after = {line.key: line for line in self.after.lines}
        rows = []
        for key in [*before, *(k for k in after if k not in before)]:
            old, new = before.get(key), after.get(key)
            was, now = (old.monthly if old else 0.0), (new.monthly if new else 0.0)
            if round(was, 2) != round(now, 2):
                either = new or old
                item = either.item if either is not None else ""
                rows.append((key[0], key[1], item, was, now))
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "before": round(self.before.monthly_total, 2),
            "after": round(self.after.monthly_total, 2),
            "delta": round(self.after.monthly_total - self.before.monthly_total, 2),
            "lines": [
                {
                    "stack": stack,
                    "resource": resource,
                    "item": item,
                    "before": round(was, 2),
                    "after": round(now, 2),
                    "delta": round(now - was, 2),
                }
                for stack, resource, item, was, now in self.changes()
            ],
        }

    def render(self) -> list[str]:
        change = self.after.monthly_total - self.before.monthly_total
        lines = [
            f"cost: {money(self.before.monthly_total)} -> {money(self.after.monthly_total)} "
            f"a month ({'+' if change >= 0 else '-'}{money(abs(change))}, always on)"
        ]
        for stack, resource, item, was, now in self.changes():
            sign = "+" if now >= was else "-"
            lines.append(f"  {sign}{money(abs(now - was)):>10}  {stack} {resource}: {item}")
        return lines
