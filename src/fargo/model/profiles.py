"""Profile defaults: lean (cheapest that works), standard, production (HA and safety)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fargo.model.app import NatMode

ProfileName = Literal["lean", "standard", "production"]


@dataclass(frozen=True)
class Profile:
    nat: NatMode
    min_tasks: int
    db_size: str
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    log_retention_days: int
    cache_snapshot_days: int
    cache_replicas: int
    performance_insights: bool
    termination_protection: bool


PROFILES: dict[str, Profile] = {
    # No NAT gateway: at ~$33/month each it would dwarf a small app's bill.
    "lean": Profile("none", 1, "micro", False, 1, False, 14, 0, 0, False, False),
    "standard": Profile("single", 1, "small", False, 7, False, 30, 1, 0, False, False),
    "production": Profile("per-az", 2, "medium", True, 30, True, 90, 7, 1, True, True),
}

DB_INSTANCE_CLASSES = {
    "micro": "db.t4g.micro",
    "small": "db.t4g.small",
    "medium": "db.t4g.medium",
    "large": "db.m7g.large",
}


CACHE_MAJOR_VERSIONS = {"valkey": "8", "redis": "7"}
# Defaults when a service can scale but names no target.
DEFAULT_CPU_TARGET = 70
DEFAULT_BACKLOG_TARGET = 10
