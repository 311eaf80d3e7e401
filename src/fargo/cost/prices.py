"""The price tables in the package: one JSON file per region (`prices/<region>.json`).

Every entry carries its unit, its source (the AWS pricing page or price-list offer file it
came from) and an as-of date, so each figure fargo prints can be traced. A region without a
table is refused, never guessed from another region: prices differ between regions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from fargo.errors import InputError


def _tables() -> Traversable:
    # The `prices/` directory beside this module (a data directory, not a package).
    return resources.files("fargo.cost").joinpath("prices")


@dataclass(frozen=True)
class Price:
    """One line of a price table. A range (Spot) has `low` < `high`; a fixed price has both
    equal to `price`."""

    key: str
    unit: str
    low: float
    high: float
    source: str
    as_of: str
    description: str
    # False: the figure AWS publishes on its pricing page, not yet read from its price list.
    confirmed: bool = True

    @property
    def is_range(self) -> bool:
        return self.low != self.high

    @property
    def price(self) -> float:
        """The figure totals use: the high end of a range, so an estimate never flatters."""
        return self.high

    def render(self) -> str:
        """The unit price, marked `*` when it is not confirmed (see UNCONFIRMED)."""
        mark = "" if self.confirmed else "*"
        if self.is_range:
            return f"${_figure(self.low)}-{_figure(self.high)}{mark}"
        return f"${_figure(self.high)}{mark}"


UNCONFIRMED = (
    "* price as published by AWS, not read from its price list: run scripts/price-table.py "
    "from a source checkout to refresh it"
)


def _figure(value: float) -> str:
    """Cents at least ($0.40, not $0.4), and every significant digit of a smaller rate
    ($0.004445, $0.0013335): the table's figure, never rounded."""
    if value >= 1:
        return f"{value:.2f}"
    digits = f"{value:.8f}".rstrip("0")
    return digits if len(digits.split(".")[1]) >= 2 else f"{value:.2f}"


@dataclass(frozen=True)
class PriceTable:
    region: str
    currency: str
    as_of: str
    prices: dict[str, Price]

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]

    def get(self, key: str) -> Price | None:
        return self.prices.get(key)


def regions() -> list[str]:
    """The regions fargo has a price table for."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in _tables().iterdir()
        if entry.name.endswith(".json")
    )


@cache
def load_prices(region: str) -> PriceTable:
    path = _tables().joinpath(f"{region}.json")
    if not path.is_file():
        raise InputError(
            f"fargo has no price table for {region}",
            hint=f"fargo prices {', '.join(regions())}; for {region}, see AWS's pricing "
            "pages (https://aws.amazon.com/pricing/) or the AWS Pricing Calculator",
        )
    return parse_table(json.loads(path.read_text()))


def parse_table(document: dict[str, Any]) -> PriceTable:
    prices: dict[str, Price] = {}
    for key, entry in document["prices"].items():
        if "price" in entry:
            low = high = float(entry["price"])
        else:
            low, high = float(entry["price_low"]), float(entry["price_high"])
        prices[key] = Price(
            key=key,
            unit=entry["unit"],
            low=low,
            high=high,
            source=entry["source"],
            as_of=entry["as_of"],
            description=entry["description"],
            confirmed=bool(entry.get("confirmed", True)),
        )
    return PriceTable(document["region"], document["currency"], document["as_of"], prices)
