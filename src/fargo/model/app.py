"""The App graph. Everything here is decided; synth only translates it into templates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal

from fargo.edge.patterns import covers, overlaps

NatMode = Literal["none", "single", "per-az"]


class StackKind(StrEnum):
    """Stacks split by rate of change and by what a change can destroy (DESIGN §2)."""

    NETWORK = "network"
    DATA = "data"
    # The migration's task definition, ahead of the services stack (fargo.synth.release).
    RELEASE = "release"
    SERVICES = "services"
    EDGE = "edge"


DEPLOY_ORDER = (
    StackKind.NETWORK,
    StackKind.DATA,
    StackKind.RELEASE,
    StackKind.SERVICES,
    StackKind.EDGE,
)

# The tag on a preview environment's stacks and resources (`previews:` in fargo.yml).
PREVIEW_TAG = "fargo:preview"


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

    @property
    def url_path(self) -> str:
        """The path a URL of the route ends in: `/api/*` → `/api/`, no path → `/`."""
        return (self.path or "/").rstrip("*") or "/"


@dataclass(frozen=True)
class SecretRef:
    """A container secret: env var name → Secrets Manager secret or SSM parameter."""

    env_name: str
    source: Literal["secretsmanager", "ssm"]
    name: str  # secret name or parameter path
    json_key: str | None = None


ServiceKind = Literal["web", "worker", "job", "service"]


@dataclass(frozen=True)
class Scaling:
    """Autoscaling between `min` and `max` tasks on any of these targets (None: unused)."""

    min: int
    max: int
    cpu: int | None
    memory: int | None
    requests: int | None  # ALB requests per task per minute
    backlog: int | None  # queued messages per task, for workers

    @property
    def enabled(self) -> bool:
        return self.max > self.min


@dataclass(frozen=True)
class Uses:
    database: bool = False
    cache: bool = False
    mail: bool = False
    queues: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageBuild:
    """How to build a service's image; pushed to the ECR repository `repository`."""

    context: str  # absolute path of the build context
    dockerfile: str | None
    target: str | None
    args: tuple[tuple[str, str], ...]
    platform: Literal["linux/amd64", "linux/arm64"]
    repository: str  # ECR repository name: <app>/<service>
    # An OCI layout another tool built: pushed as it is, nothing is built.
    layout: str | None = None
    # Built in AWS rather than here: CodeBuild builds and pushes; `builder:` does not apply.
    remote: Literal["codebuild"] | None = None


@dataclass(frozen=True)
class Service:
    name: str
    kind: ServiceKind
    # A full reference for `image: REF` (and `from:` such a service), else None: the image
    # is built, and `built_by` names the service whose build it uses.
    image: str | None
    port: int | None
    route: HttpRoute | None
    cpu: int
    memory: int
    arch: Literal["x86_64", "arm64"]
    desired_count: int
    scaling: Scaling
    environment: tuple[tuple[str, str], ...]
    secrets: tuple[SecretRef, ...]
    command: tuple[str, ...] | None
    uses: Uses
    # Tasks kept on on-demand Fargate before the rest go to Fargate Spot; None: no Spot.
    spot_base: int | None
    queue: str | None = None  # the queue a worker consumes
    schedule: str | None = None  # the expression a job runs on
    built_by: str | None = None
    build: ImageBuild | None = None  # set on the service that builds

    @property
    def long_running(self) -> bool:
        """Runs as an ECS service; a scheduled job only runs as one-off tasks."""
        return self.kind != "job"


@dataclass(frozen=True)
class Migration:
    """`migrate:`: `command` run once in `service`'s image, environment and network before
    the services roll."""

    command: tuple[str, ...]
    service: str
    timeout_seconds: int

    def task(self, service: Service) -> Service:
        """The one-off task: `service` as it is, with the migration's command, and no port,
        route, queue or schedule (nothing routes to it and nothing restarts it)."""
        return replace(
            service,
            name=f"{service.name}-migrate",
            kind="job",
            port=None,
            route=None,
            command=self.command,
            queue=None,
            schedule=None,
        )


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
    performance_insights: bool = False


@dataclass(frozen=True)
class Cache:
    engine: Literal["valkey", "redis"]
    node_type: str | None  # None: ElastiCache Serverless
    major_version: str
    snapshot_retention_days: int
    replicas: int  # node caches: 1 adds a replica in another zone, with failover


@dataclass(frozen=True)
class Queue:
    name: str
    fifo: bool
    visibility_seconds: int
    retention_seconds: int
    max_receives: int


@dataclass(frozen=True)
class Bucket:
    name: str
    versioning: bool
    expire_noncurrent_days: int


@dataclass(frozen=True)
class Mail:
    domain: str
    sender: str


@dataclass(frozen=True)
class Domain:
    """The zone fargo writes records in, the API's host and the static site's host."""

    name: str
    api: str
    site: str
    dns: Literal["route53", "cloudflare", "godaddy", "porkbun", "powerdns"]


# Managed CloudFront policies the API's cache behavior uses: nothing cached, every viewer
# header but Host forwarded (the ALB's certificate names the API host, not the viewer's).
CACHING_DISABLED_POLICY = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_POLICY = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# The header CloudFront adds on its way to the ALB; without it the ALB answers 403.
ORIGIN_VERIFY_HEADER = "X-Fargo-Origin-Verify"
DEFAULT_API_PATH = "/api/*"


@dataclass(frozen=True)
class CdnAssets:
    """Built files served from the edge stack's bucket under `path` (`cdn: { app, assets }`)."""

    path: str  # a prefix pattern, `/_next/static/*`
    directory: Path

    @property
    def key_prefix(self) -> str:
        """Where the files go in the bucket: CloudFront asks S3 for the viewer's whole path."""
        return self.path[1:-1]  # "/_next/static/*" -> "_next/static/"


@dataclass(frozen=True)
class Cdn:
    """CloudFront in front of the app: spliced into the user's distribution (`existing`), a
    distribution fargo creates for a static site (`static`), or one fargo creates in front of
    the app itself (`app`)."""

    existing: str | None
    static: Path | None
    path: str
    spa: bool
    origin_id: str  # the id of the load balancer's origin in the distribution
    app: bool = False
    assets: CdnAssets | None = None
    # Hosts CloudFront may name in the Host header of its requests to the load balancer
    # (module docs of synth/routing.py); empty when it names only the load balancer's own or
    # the distribution's *.cloudfront.net name, which no listener rule routes on.
    forwarded_hosts: tuple[str, ...] = ()
    # The host CloudFront connects to over HTTPS; None: the load balancer's name over HTTP.
    origin_host: str | None = None
    # `spa_errors: function`: the distribution's SPA error pages replaced by a function.
    spa_errors: bool = False

    @property
    def owned(self) -> bool:
        return self.static is not None or self.app

    def fronts(self, route: HttpRoute) -> bool:
        """Whether CloudFront forwards requests to this listener rule: it has no host
        condition, or its host is one CloudFront presents; and CloudFront sends it paths
        the rule matches (every path for the app behind it, else only `path`). Only such
        rules require the origin-verify header; any other rule is reached directly."""
        if route.host is not None and route.host not in self.forwarded_hosts:
            return False
        return self.app or route.path is None or overlaps(route.path, self.path)

    def url_path(self, route: HttpRoute) -> str:
        """The path a fronted route's URL through the distribution ends in: the route's own
        when CloudFront sends all of it, else the part it does send (`/*` behind `/api/*`
        answers at `/api/`; the rest of its paths are the site's)."""
        if self.app or (route.path is not None and covers(self.path, route.path)):
            return route.url_path
        return self.path.rstrip("*") or "/"


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
    cache: Cache | None = None
    queues: tuple[Queue, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    mail: Mail | None = None
    alert_emails: tuple[str, ...] = ()
    termination_protection: bool = False  # on the data stack
    builder: Literal["auto", "docker", "podman", "buildah"] = "auto"
    keep_images: int = 20
    domain: Domain | None = None
    cdn: Cdn | None = None
    migration: Migration | None = None

    @property
    def builds(self) -> tuple[Service, ...]:
        """Services whose image fargo builds and pushes, in manifest order."""
        return tuple(s for s in self.services if s.build is not None)

    def stack_name(self, kind: StackKind) -> str:
        return f"{self.name}-{self.env}-{kind.value}"

    def service(self, name: str) -> Service:
        """The service named `name`; the manifest's references are checked, so it exists."""
        return next(s for s in self.services if s.name == name)

    @property
    def migration_task(self) -> Service | None:
        """What the release stack's task definition runs: the migration, as a service."""
        if self.migration is None:
            return None
        return self.migration.task(self.service(self.migration.service))

    @property
    def load_balanced(self) -> bool:
        """Whether any service takes HTTP traffic: only then is there a load balancer."""
        return any(s.route is not None for s in self.services)

    @property
    def api_hosts(self) -> tuple[str, ...]:
        """The hosts that point at the load balancer in the domain's zone: the API host
        (with `cdn: { app }` only when a service routes it), every service's `http.host`
        inside the zone, and the origin host of `cdn: { app }`.
        None without a load balancer: nothing would answer for them."""
        if self.domain is None or not self.load_balanced:
            return ()
        zone = self.domain.name
        hosts = {
            s.route.host
            for s in self.services
            if s.route is not None
            and s.route.host is not None
            and (s.route.host == zone or s.route.host.endswith("." + zone))
        }
        if self.cdn is not None and self.cdn.app:
            # Behind the app's distribution every host-less rule wants CloudFront's header:
            # the API host answers only when a service routes it by name.
            if self.cdn.origin_host is not None:
                hosts.add(self.cdn.origin_host)
            api = self.domain.api
            return tuple(sorted(hosts, key=lambda host: (host != api, host)))
        return (self.domain.api, *sorted(hosts - {self.domain.api}))

    @property
    def regional_certificate_hosts(self) -> tuple[str, ...]:
        """The names of the load balancer's certificate: its hosts, and with `cdn: { app }`
        the site host too. The app's cache policy keys on Host, so CloudFront forwards the
        viewer's Host to the load balancer and checks the certificate against it."""
        hosts = self.api_hosts
        if hosts and self.domain is not None and self.cdn is not None and self.cdn.app:
            hosts = (*hosts, *(h for h in (self.domain.site,) if h not in hosts))
        return hosts

    @property
    def mail_from_domain(self) -> str | None:
        """SES's MAIL FROM subdomain, `mail.<mail domain>`, when fargo writes the records of
        the zone that holds the mail domain: bounces go to SES, and SPF aligns."""
        if self.mail is None or self.domain is None:
            return None
        zone, domain = self.domain.name, self.mail.domain
        if domain != zone and not domain.endswith("." + zone):
            return None
        return f"mail.{domain}"

    @property
    def has_data(self) -> bool:
        # Scheduled jobs need it too: it holds their dead-letter queue.
        jobs = any(s.kind == "job" for s in self.services)
        return bool(self.database or self.cache or self.queues or self.buckets or self.mail or jobs)

    @property
    def stacks(self) -> tuple[StackKind, ...]:
        wanted = {
            StackKind.NETWORK: True,
            StackKind.DATA: self.has_data,
            StackKind.RELEASE: self.migration is not None,
            StackKind.SERVICES: True,
            StackKind.EDGE: self.cdn is not None and self.cdn.owned,
        }
        return tuple(k for k in DEPLOY_ORDER if wanted[k])
