"""The manifest's typed shape (DESIGN §3). Unknown keys are errors (`extra="forbid"`).

Validators raise `invalid(message, hint)` so every problem reaches the user with a hint.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    JsonValue,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from fargo.manifest import fargate
from fargo.manifest.app_tier import AlertsSpec, BucketSpec, CacheSpec, MailSpec, QueueSpec
from fargo.manifest.base import Int, Number, Strict, invalid, name_rule
from fargo.manifest.edge import CdnSpec, DomainSpec
from fargo.manifest.engines import version_problem
from fargo.manifest.image_ref import EXAMPLE as IMAGE_EXAMPLE
from fargo.manifest.image_ref import reference_problem
from fargo.manifest.migrate import MigrateSpec
from fargo.manifest.previews import PreviewsSpec
from fargo.manifest.schedule import schedule_problem
from fargo.manifest.tags import check_tags

# ALB path patterns: AWS's allowed characters, case-sensitive, at most 128 characters.
_PATH_CHARS = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+&*?]*$")
_HEALTH_PATH = re.compile(r"^/[A-Za-z0-9_\-./~%=&?]*$")
_HOST_RULE = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_REGION_RULE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_REF = re.compile(
    r"^(secretsmanager:[A-Za-z0-9/_+=.@-]+(:[A-Za-z0-9_.-]+)?|ssm:/[A-Za-z0-9/_.-]+)$"
)


class NetworkSpec(Strict):
    nat: Literal["none", "single", "per-az"] | None = Field(
        None,
        description="none: tasks in public subnets, no NAT cost; single/per-az: private subnets",
    )
    azs: Int = Field(2, ge=2, le=3, description="availability zones to span")
    cidr: str = Field("10.0.0.0/16", description="VPC CIDR block; a /16 is carved into /20s")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        hint = "a network address with /16, e.g. 10.0.0.0/16 or 172.31.0.0/16"
        if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}", value):
            raise invalid(f"`{value}` is not an IPv4 CIDR block", hint)
        try:
            network = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise invalid(f"`{value}` is not an IPv4 address with a prefix", hint) from None
        if network.prefixlen != 16:
            raise invalid(f"`{value}` is a /{network.prefixlen}; fargo carves a /16", hint)
        if str(network) != value:
            raise invalid(
                f"`{value}` is not a network address: its host bits are set",
                f"write {network} (the /16 that contains it)",
            )
        return value


class BuildSpec(Strict):
    """`build: DIR`, or the long form with the Dockerfile's options."""

    context: str = Field(".", description="build context, relative to fargo.yml")
    dockerfile: str | None = Field(None, description="relative to the context; default Dockerfile")
    target: str | None = Field(None, description="the Dockerfile stage to build")
    args: dict[str, str] = Field(default_factory=dict, description="--build-arg values")
    platform: Literal["linux/amd64", "linux/arm64"] | None = Field(
        None, description="default: the service's arch"
    )
    remote: Literal["codebuild"] | None = Field(
        None,
        description="codebuild: build in AWS CodeBuild, which pushes to ECR (no local builder)",
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_string(cls, value: Any) -> Any:
        return {"context": value} if isinstance(value, str) else value

    @field_validator("remote", mode="before")
    @classmethod
    def _remote(cls, value: Any) -> Any:
        if value is not None and value != "codebuild":
            raise invalid(
                f"`{value}` is not a remote builder",
                "the one remote builder is AWS CodeBuild: `build: { context: ., remote: "
                "codebuild }`; leave `remote` out to build on this machine",
            )
        return value


class ImageSpec(Strict):
    """`image: REF`, `image: { build: DIR }` or `image: { from: SERVICE }`."""

    ref: str | None = Field(None, description="an image reference, e.g. 1234.dkr.ecr.../api:tag")
    build: BuildSpec | None = Field(None, description="build this Dockerfile and push it to ECR")
    layout: str | None = Field(
        None, description="an OCI image layout directory some other tool built; pushed to ECR"
    )
    from_: str | None = Field(None, alias="from", description="reuse another service's image")

    @model_validator(mode="before")
    @classmethod
    def _accept_string(cls, value: Any) -> Any:
        return {"ref": value} if isinstance(value, str) else value

    @field_validator("ref")
    @classmethod
    def _ref(cls, value: str | None) -> str | None:
        problem = reference_problem(value) if value is not None else None
        if problem:
            raise invalid(f"image `{value}`: {problem}", IMAGE_EXAMPLE)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ImageSpec:
        if sum(x is not None for x in (self.ref, self.build, self.layout, self.from_)) != 1:
            raise invalid(
                "image needs exactly one source",
                "write `image: REPO:TAG`, `image: { build: DIR }`, `image: { layout: DIR }` "
                "or `image: { from: OTHER_SERVICE }`",
            )
        return self


class HttpSpec(Strict):
    path: str | None = Field(None, description="ALB path pattern, e.g. /api/*")
    host: str | None = Field(None, description="host header to route, e.g. api.example.com")
    healthcheck: str = Field("/", description="path the load balancer probes")

    @field_validator("healthcheck")
    @classmethod
    def _healthcheck(cls, value: str) -> str:
        # A concrete path, not a pattern: it is probed by the ALB and from inside the container.
        if len(value) > 1024 or not _HEALTH_PATH.fullmatch(value):
            raise invalid(
                f"`{value}` is not a health check path",
                "a plain path such as /health: letters, digits and _-./~%=&? only",
            )
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None:
            return value
        wildcards = value.count("*") + value.count("?")
        if len(value) > 128 or not _PATH_CHARS.fullmatch(value) or wildcards > 5:
            raise invalid(
                f"`{value}` is not a valid load balancer path pattern",
                "start with '/', at most 128 characters and 5 wildcards (* or ?), using "
                "letters, digits and _-.$/~\"'@:+&",
            )
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not _HOST_RULE.fullmatch(value):
            raise invalid(f"`{value}` is not a valid host name", "for example api.example.com")
        return value

    @model_validator(mode="after")
    def _routed(self) -> HttpSpec:
        if self.path is None and self.host is None:
            raise invalid("http needs a `path` or a `host` to route", "for example path: /api/*")
        return self


class CountSpec(Strict):
    min: Int = Field(1, ge=0, le=1000)
    max: Int | None = Field(None, ge=1, le=1000)
    cpu: Int | None = Field(None, ge=10, le=95, description="target CPU % for autoscaling")
    memory: Int | None = Field(None, ge=10, le=95, description="target memory % for autoscaling")
    requests: Int | None = Field(
        None, ge=1, le=100000, description="target ALB requests per task per minute"
    )
    backlog: Int | None = Field(
        None, ge=1, le=100000, description="target queued messages per task (workers)"
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_int(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise invalid(
                f"`count: {str(value).lower()}` is not a number of tasks",
                "write count: N for N tasks, or count: { min: 1, max: 4 }",
            )
        return {"min": value, "max": value} if isinstance(value, int) else value

    @model_validator(mode="after")
    def _ordered(self) -> CountSpec:
        if self.max is not None and self.max < self.min:
            raise invalid(f"max ({self.max}) is below min ({self.min})", "raise max or lower min")
        return self


EnvName = Annotated[str, Field(pattern=_ENV_VAR.pattern)]


class SpotSpec(Strict):
    """`spot: { base: N }`: N tasks on on-demand Fargate, the rest on Fargate Spot."""

    base: Int = Field(
        1, ge=0, le=1000, description="tasks kept on on-demand Fargate; 0 runs all on Spot"
    )


def _spot_shorthand(value: Any) -> Any:
    """`spot: true` is `{ base: 1 }` (one on-demand task keeps the service up when Spot
    capacity is reclaimed); `spot: false` is no Spot at all."""
    if value is True:
        return {"base": 1}
    if value is False:
        return None
    return value


def _spot_schema(schema: dict[str, JsonValue]) -> None:
    """The schema says what the YAML accepts: `spot: true` besides `{ base: N }`."""
    choices = schema.get("anyOf")
    if isinstance(choices, list):
        choices.insert(0, {"type": "boolean"})


class ServiceSpec(Strict):
    image: ImageSpec
    port: Int | None = Field(None, ge=1, le=65535)
    http: HttpSpec | None = None
    cpu: Int = Field(256, description="CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384")
    memory: Int = Field(512, description="MiB; must be a size Fargate offers for `cpu`")
    arch: Literal["x86_64", "arm64"] = "x86_64"
    count: CountSpec = Field(default_factory=CountSpec)
    env: dict[EnvName, str | int | float | bool] = Field(default_factory=dict)
    secrets: dict[EnvName, str] = Field(default_factory=dict)
    command: tuple[str, ...] | None = None
    uses: tuple[str, ...] = ()
    spot: SpotSpec | None = Field(
        None,
        description="true (one on-demand task, the rest on Fargate Spot) or { base: N }; "
        "a scheduled job runs on Spot whenever it is set",
        json_schema_extra=_spot_schema,
    )
    queue: str | None = Field(None, description="the queue this worker consumes")
    schedule: str | None = Field(
        None, description='run as a scheduled task: "cron(0 3 * * ? *)" or "rate(1 hour)"'
    )

    @field_validator("spot", mode="before")
    @classmethod
    def _spot(cls, value: Any) -> Any:
        return _spot_shorthand(value)

    @field_serializer("spot")
    def _spot_as_written(self, value: SpotSpec | None) -> bool | dict[str, int]:
        # The shorthand back: a manifest that says `spot: false` or `true` keeps its digest.
        if value is None or value.base == 1:
            return value is not None
        return {"base": value.base}

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int) -> int:
        if value not in fargate.cpu_options():
            raise invalid(
                f"{value} CPU units is not a Fargate task size",
                "use one of " + ", ".join(str(c) for c in fargate.cpu_options()),
            )
        return value

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, ref in value.items():
            if not _SECRET_REF.fullmatch(ref):
                raise invalid(
                    f"secret {name}: `{ref}` is not a secret reference",
                    "write secretsmanager:NAME, secretsmanager:NAME:JSON_KEY or ssm:/path",
                )
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        problem = schedule_problem(value) if value is not None else None
        if problem:
            raise invalid(
                f"schedule `{value}`: {problem}",
                'for example "cron(0 3 * * ? *)" (03:00 UTC daily) or "rate(15 minutes)"',
            )
        return value

    @model_validator(mode="after")
    def _shape(self) -> ServiceSpec:
        if self.memory not in fargate.memory_options(self.cpu):
            raise invalid(
                f"Fargate does not offer {self.cpu} CPU units with {self.memory} MiB",
                f"with cpu {self.cpu} use memory {fargate.describe_options(self.cpu)}",
            )
        if self.http is not None and self.port is None:
            raise invalid("a service with `http` needs a `port`", "the port your app listens on")
        roles = [k for k in ("http", "queue", "schedule") if getattr(self, k) is not None]
        if len(roles) > 1:
            raise invalid(
                f"a service is one of: web (http), worker (queue) or job (schedule); "
                f"this one sets {' and '.join(roles)}",
                "split it into two services sharing an image with `image: { from: ... }`",
            )
        self._check_count()
        return self

    def _check_count(self) -> None:
        """Scaling targets mean something only for some kinds of service; say so rather
        than ignore them."""
        count = self.count
        if self.schedule is not None and "count" in self.model_fields_set:
            raise invalid(
                "a scheduled job runs one task per run; `count` does not apply",
                "remove `count` from this service",
            )
        if count.requests is not None and self.http is None:
            raise invalid(
                "`count.requests` needs `http`: it tracks load balancer requests",
                "scale on count.cpu or count.memory instead",
            )
        if count.backlog is not None and self.queue is None:
            raise invalid(
                "`count.backlog` needs `queue`: it tracks the queue's depth",
                "scale on count.cpu or count.memory instead",
            )
        if count.min == 0 and (count.max or 0) > 0 and self.queue is None:
            raise invalid(
                "only a worker (`queue:`) can scale up from zero tasks",
                "set count.min to 1 or more, or consume a queue",
            )


class ServerlessSpec(Strict):
    min: Number = Field(0, ge=0, le=256, description="ACUs; 0 pauses the database when idle")
    max: Number = Field(4, ge=1, le=256)

    @field_validator("min", "max")
    @classmethod
    def _half_steps(cls, value: float) -> float:
        # Aurora Serverless v2 takes capacities in half-ACU steps (its API's
        # ServerlessV2ScalingConfiguration).
        if (value * 2) % 1:
            raise invalid(
                f"{value} ACU is not a capacity Aurora offers: it scales in steps of 0.5 ACU",
                f"use {int(value * 2) / 2:g} or {int(value * 2) / 2 + 0.5:g}",
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ServerlessSpec:
        if self.max < self.min:
            raise invalid(f"max ({self.max}) is below min ({self.min})", "raise max or lower min")
        return self


class DatabaseSpec(Strict):
    engine: Literal["postgres"] = "postgres"
    size: Literal["micro", "small", "medium", "large"] | None = None
    serverless: ServerlessSpec | None = None
    # After `serverless`: which engine the version is of depends on it.
    version: str = Field("16", pattern=r"^\d+(\.\d+)?$")
    storage: Int = Field(20, ge=20, le=65536, description="GiB, instance databases only")
    multi_az: bool | None = None
    name: str = Field("app", pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$", description="database name")

    @model_validator(mode="after")
    def _kind(self) -> DatabaseSpec:
        if self.size is not None and self.serverless is not None:
            raise invalid(
                "choose `size` (an RDS instance) or `serverless` (Aurora Serverless v2), not both",
                "remove one of them",
            )
        return self

    @field_validator("version")
    @classmethod
    def _version(cls, value: str, info: ValidationInfo) -> str:
        serverless = info.data.get("serverless") is not None
        problem = version_problem("aurora-postgresql" if serverless else "postgres", value)
        if problem is not None:
            raise invalid(*problem)
        return value


class Manifest(Strict):
    app: str = Field(description="application name; prefixes every stack")
    region: str = Field("us-east-1", description="AWS region")
    profile: Literal["lean", "standard", "production"] = "lean"
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    services: dict[str, ServiceSpec]
    database: DatabaseSpec | None = None
    cache: CacheSpec | None = None
    queues: dict[str, QueueSpec] = Field(default_factory=dict)
    buckets: dict[str, BucketSpec] = Field(default_factory=dict)
    mail: MailSpec | None = None
    alerts: AlertsSpec | None = None
    domain: DomainSpec | None = None
    cdn: CdnSpec | None = None
    migrate: MigrateSpec | None = Field(
        None, description="runs before any service rolls; a failure stops the deploy"
    )
    tags: dict[str, str] = Field(default_factory=dict, description="extra tags on every resource")
    builder: Literal["auto", "docker", "podman", "buildah"] = Field(
        "auto", description="what builds `image: { build }` images on this machine"
    )
    keep_images: Int = Field(
        20, ge=1, le=1000, description="images each ECR repository keeps (lifecycle policy)"
    )
    environments: dict[str, dict[str, Any] | None] = Field(
        default_factory=dict, description="per-environment overrides of any key above"
    )
    previews: PreviewsSpec | None = Field(
        None, description="`--env` names built from one environment's overlay, on Spot"
    )

    @field_validator("app")
    @classmethod
    def _app(cls, value: str) -> str:
        return name_rule(value, "app", 20)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION_RULE.fullmatch(value):
            raise invalid(f"`{value}` is not an AWS region", "for example us-east-1")
        return value

    @field_validator("services")
    @classmethod
    def _services(cls, value: dict[str, ServiceSpec]) -> dict[str, ServiceSpec]:
        if not value:
            raise invalid("at least one service is needed", "add services: { api: { image: ... } }")
        for name in value:
            name_rule(name, "service", 24)
        return value

    @field_validator("queues", "buckets")
    @classmethod
    def _resource_names(cls, value: dict[str, object]) -> dict[str, object]:
        for name in value:
            name_rule(name, "name", 24)
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return check_tags(value)

    @field_validator("environments")
    @classmethod
    def _environments(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            name_rule(name, "environment", 12)
        return value
