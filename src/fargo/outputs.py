"""The deployed stacks' outputs, read through one typed reader.

Everything that reads an output after synth (deploy's edge steps and report, `status`,
`--local` URLs) reads it here, by the names synth emits (`fargo.synth.outputs`), so a
renamed output is one edit and a test (tests/unit/test_output_contract.py) checks that every
name read here is emitted. An accessor returns None where the output is legitimately absent
(the stack is not deployed yet, or the manifest has no such part); one whose output every
deployed stack of that kind holds raises `MissingOutput`, naming the stack and the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fargo.errors import FargoError
from fargo.model.app import App, Service, StackKind
from fargo.synth import outputs as out

Values = Mapping[str, str]


class MissingOutput(FargoError):  # noqa: N818 - reads as what the user meets
    """A deployed stack lacks an output fargo's template for it always has."""


class _Stack:
    """One stack's outputs; empty when the stack is not deployed."""

    def __init__(self, stack: str, values: Values) -> None:
        self.stack = stack
        self._values = values

    def _get(self, key: str) -> str | None:
        return self._values.get(key)

    def _require(self, key: str) -> str:
        value = self._values.get(key)
        if value is None:
            raise self.missing(key)
        return value

    def missing(self, key: str) -> MissingOutput:
        return MissingOutput(
            f"stack {self.stack} has no output {key}",
            hint="the stack was changed outside fargo, or deployed without the part that "
            "makes it; `fargo plan` shows the difference and `fargo deploy` brings it back",
        )

    def has(self, key: str) -> bool:
        return key in self._values


class NetworkOutputs(_Stack):
    @property
    def cluster_name(self) -> str | None:
        """None until the network stack is deployed."""
        return self._get(out.CLUSTER_NAME)

    @property
    def task_subnet_ids(self) -> tuple[str, ...]:
        """Where every task runs (a CommaDelimitedList output)."""
        return tuple(self._require(out.TASK_SUBNET_IDS).split(","))

    @property
    def task_security_group_id(self) -> str:
        return self._require(out.TASK_SECURITY_GROUP_ID)

    @property
    def assign_public_ip(self) -> str:
        """ENABLED without NAT (tasks in public subnets), DISABLED with it."""
        return self._require(out.ASSIGN_PUBLIC_IP)

    @property
    def load_balancer_dns_name(self) -> str | None:
        """None without a service taking HTTP traffic (no load balancer)."""
        return self._get(out.LOAD_BALANCER_DNS_NAME)

    @property
    def load_balancer_hosted_zone_id(self) -> str | None:
        """Output beside the load balancer's DNS name; only a Route 53 alias needs it."""
        return self._get(out.LOAD_BALANCER_HOSTED_ZONE_ID)

    @property
    def load_balancer_full_name(self) -> str | None:
        """`app/<name>/<id>`; None without a load balancer."""
        return self._get(out.LOAD_BALANCER_FULL_NAME)

    @property
    def origin_verify_secret_arn(self) -> str:
        """Only with `cdn:`: check `fronted_by_cdn` first."""
        return self._require(out.ORIGIN_VERIFY_SECRET_ARN)

    @property
    def fronted_by_cdn(self) -> bool:
        """The deployed stack has CloudFront's origin secret: it was deployed with `cdn:`."""
        return self.has(out.ORIGIN_VERIFY_SECRET_ARN)

    @property
    def had_edge(self) -> bool:
        """The deployed stack shows a domain (the HTTPS listener, or the domain's zone
        without a load balancer) or a cdn (the origin secret): it may have edge work to undo."""
        edge = (out.HTTPS_LISTENER_ARN, out.DOMAIN_ZONE, out.ORIGIN_VERIFY_SECRET_ARN)
        return any(self.has(key) for key in edge)


class DataOutputs(_Stack):
    def mail_dkim(self) -> tuple[tuple[str, str], ...]:
        """SES Easy DKIM's (name, value) CNAME pairs; none before the identity exists."""
        pairs = (
            (self._get(out.mail_dkim_name(i)), self._get(out.mail_dkim_value(i)))
            for i in out.DKIM_TOKENS
        )
        return tuple((name, value) for name, value in pairs if name and value)


class ReleaseOutputs(_Stack):
    @property
    def migration_task_definition_arn(self) -> str:
        return self._require(out.MIGRATION_TASK_DEFINITION_ARN)

    @property
    def deployed_migration_task_definition_arn(self) -> str | None:
        """None before the release stack is deployed."""
        return self._get(out.MIGRATION_TASK_DEFINITION_ARN)


class ServicesOutputs(_Stack):
    def service_name(self, service: Service) -> str | None:
        """The ECS service's name; None before the stack is deployed, and for a scheduled
        task (no ECS service)."""
        return self._get(out.service_name(service.name))

    def task_definition_arn(self, service: Service) -> str:
        """Every service has a task definition, scheduled or long-running."""
        return self._require(out.task_definition_arn(service.name))

    def url(self, service: Service) -> str | None:
        """Only where the stack knows the host (edge/urls.py covers the rest)."""
        return self._get(out.service_url(service.name))


class EdgeOutputs(_Stack):
    @property
    def distribution_id(self) -> str:
        return self._require(out.DISTRIBUTION_ID)

    @property
    def distribution_domain_name(self) -> str | None:
        """The `*.cloudfront.net` name; None until the edge stack is deployed."""
        return self._get(out.DISTRIBUTION_DOMAIN_NAME)

    @property
    def distribution_ipv6_enabled(self) -> bool:
        return self._get(out.DISTRIBUTION_IPV6_ENABLED) == "true"

    @property
    def site_bucket_name(self) -> str | None:
        """None without static files (or before the edge stack is deployed)."""
        return self._get(out.SITE_BUCKET_NAME)


class DeployedOutputs:
    """The app's stacks' outputs, by stack kind; a stack not deployed reads as empty."""

    def __init__(self, app: App, by_kind: Mapping[StackKind, Values]) -> None:
        def values(kind: StackKind) -> tuple[str, Values]:
            return app.stack_name(kind), by_kind.get(kind, {})

        self.network = NetworkOutputs(*values(StackKind.NETWORK))
        self.data = DataOutputs(*values(StackKind.DATA))
        self.release = ReleaseOutputs(*values(StackKind.RELEASE))
        self.services = ServicesOutputs(*values(StackKind.SERVICES))
        self.edge = EdgeOutputs(*values(StackKind.EDGE))

    @classmethod
    def by_name(cls, app: App, stacks: Iterable[tuple[str, Values]]) -> DeployedOutputs:
        """From (stack name, outputs) pairs, as deploy's and status's results hold them."""
        found = dict(stacks)
        kinds = {app.stack_name(kind): kind for kind in StackKind}
        return cls(app, {kinds[name]: values for name, values in found.items() if name in kinds})
