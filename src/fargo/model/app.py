"""The App graph. Everything here is decided; synth only translates it into templates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

NatMode = Literal["none", "single", "per-az"]


class StackKind(StrEnum):
    """Stacks split by rate of change and by what a change can destroy (DESIGN §2)."""

    NETWORK = "network"
    DATA = "data"
    SERVICES = "services"


DEPLOY_ORDER = (StackKind.NETWORK, StackKind.DATA, StackKind.SERVICES)


@dataclass(frozen=True)
class Network:
    nat: NatMode
    azs: int
    cidr: str

    @property
    def private_tasks(self) -> bool:
        """With NAT, tasks run in private subnets; without, in public ones with public IPs."""
        return self.nat != "none"


@dataclass(frozen=True)
class HttpRoute:
    path: str | None
    host: str | None
    healthcheck: str
    priority: int  # listener rule priority; unique per listener, most specific first


@dataclass(frozen=True)
class SecretRef:
    """A container secret: env var name → Secrets Manager secret or SSM parameter."""

    env_name: str
    source: Literal["secretsmanager", "ssm"]
    name: str  # secret name or parameter path
    json_key: str | None = None


@dataclass(frozen=True)
class Service:
    name: str
    image: str  # a full reference; `from:` services carry their source's reference
    port: int | None
    route: HttpRoute | None
    cpu: int
    memory: int
    arch: Literal["x86_64", "arm64"]
    desired_count: int
    max_count: int
    cpu_target: int | None
    environment: tuple[tuple[str, str], ...]
    secrets: tuple[SecretRef, ...]
    command: tuple[str, ...] | None
    uses_database: bool
    spot: bool


@dataclass(frozen=True)
class Database:
    engine: Literal["postgres"]
    kind: Literal["instance", "serverless"]
    engine_version: str
    instance_class: str  # db.serverless for Aurora Serverless v2 writers
    allocated_storage: int
    serverless_min: float
    serverless_max: float
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool
    database_name: str


@dataclass(frozen=True)
class App:
    name: str
    env: str
    region: str
    profile: str
    network: Network
    services: tuple[Service, ...]
    database: Database | None
    tags: tuple[tuple[str, str], ...]
    log_retention_days: int
    manifest_digest: str

    def stack_name(self, kind: StackKind) -> str:
        return f"{self.name}-{self.env}-{kind.value}"

    @property
    def stacks(self) -> tuple[StackKind, ...]:
        return tuple(k for k in DEPLOY_ORDER if k is not StackKind.DATA or self.database)
