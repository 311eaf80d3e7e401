"""The usage assumptions usage-billed items are priced under: stated, defaulted, overridable.

Fixed costs (hours x rate) need no assumption; requests, bytes, log lines and messages do.
The defaults describe a small app in use: a million requests and 10 GB out a month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from fargo.errors import InputError

HOURS_PER_MONTH = 730  # AWS's pricing pages use 730 hours a month


@dataclass(frozen=True)
class Usage:
    requests: float = 1_000_000  # HTTP requests a month, all services together
    egress_gb: float = 10  # GB sent to the internet a month
    log_gb: float = 1  # GB of logs each log group ingests a month
    messages: float = 100_000  # messages through each queue a month
    bucket_gb: float = 5  # GB stored in each bucket
    database_gb: float = 20  # GB stored in an Aurora cluster
    nat_gb: float = 10  # GB through the NAT gateways a month (image pulls, AWS APIs)
    job_minutes: float = 10  # minutes one scheduled run takes
    emails: float = 1_000  # emails sent a month
    cache_ecpu_per_request: float = 2  # cache reads and writes per request

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def describe(self) -> str:
        return (
            f"{_count(self.requests)} requests, {self.egress_gb:g} GB egress, "
            f"{self.log_gb:g} GB logs per log group, {_count(self.messages)} messages per queue, "
            f"{self.nat_gb:g} GB through NAT, {self.job_minutes:g} min per scheduled run a month"
        )


def _count(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


_COUNT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kKmMbB]?)\s*$")
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(MB|GB|TB)?\s*$", re.IGNORECASE)
_MULTIPLIERS = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}
_GB = {"mb": 1 / 1024, "gb": 1.0, "tb": 1024.0, "": 1.0}


def parse_count(text: str, option: str) -> float:
    """`5M`, `250k`, `1000` → a number."""
    match = _COUNT.match(text)
    if match is None:
        raise InputError(
            f"{option} {text!r} is not a count",
            hint=f"write it as 1000, 250K, 5M or 1B: {option} 5M",
        )
    return float(match.group(1)) * _MULTIPLIERS[match.group(2).lower()]


def parse_gb(text: str, option: str) -> float:
    """`50GB`, `1TB`, `512MB`, `20` (GB) → GB."""
    match = _SIZE.match(text)
    if match is None:
        raise InputError(
            f"{option} {text!r} is not a size", hint=f"write it in GB, TB or MB: {option} 50GB"
        )
    return float(match.group(1)) * _GB[(match.group(2) or "").lower()]
