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
