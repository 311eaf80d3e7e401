"""`fargo status`: stacks, services (desired/running), endpoints and outputs, read-only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from fargo.aws.cloudformation import CloudFormation
from fargo.aws.ecs_tasks import private_address
from fargo.aws.facade import Aws
from fargo.edge.ledger import LedgerStore
from fargo.edge.urls import service_urls
from fargo.execute.leftovers import LeftoverStore, Retained
from fargo.execute.stack_policy import open_policy_warnings
from fargo.model.app import App, StackKind
from fargo.outputs import DataOutputs, DeployedOutputs
from fargo.synth.stack import StackTemplate


@dataclass(frozen=True)
class ResourceStatus:
    logical_id: str
    type: str
    physical_id: str
    status: str


@dataclass(frozen=True)
class StackStatus:
    name: str
    status: str
    last_updated: str | None
    outputs: dict[str, str]
    resources: tuple[ResourceStatus, ...] = ()


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    status: str
    desired: int
    running: int
    pending: int
    task_definition: str
    url: str | None
    # Running tasks whose container health checks pass (ECS's task healthStatus HEALTHY), read
    # where the counts are the containers' own (an emulator that runs them); else None.
    healthy: int | None = None


@dataclass(frozen=True)
class DnsRecord:
    """A record the user (or the DNS step) must publish, e.g. SES's DKIM CNAMEs."""

    type: str
    name: str
    value: str
    purpose: str


@dataclass(frozen=True)
class StatusReport:
    app: str
    env: str
    region: str
    stacks: tuple[StackStatus, ...]
    services: tuple[ServiceStatus, ...] = field(default_factory=tuple)
    dns_records: tuple[DnsRecord, ...] = field(default_factory=tuple)
    # What fargo made outside CloudFormation (its edge ledger): certificates, the records
    # it wrote at the DNS provider, the splice into a distribution it does not own.
    edge: dict[str, Any] = field(default_factory=dict)
    # On an emulator, whether the tasks ECS counts as running have a container: False when
    # they have none (the counts are ECS's, but nothing runs). None when not checked (AWS).
    containers_running: bool | None = None
    notes: tuple[str, ...] = ()
    # What needs the user's attention: a stack policy left open (see execute.stack_policy).
    warnings: tuple[str, ...] = ()
    # Buckets and queues the stacks let go of (DeletionPolicy Retain), with how to delete each.
    leftovers: tuple[Retained, ...] = ()

    @property
    def deployed(self) -> bool:
        return any(s.status != "NOT_DEPLOYED" for s in self.stacks)

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["leftovers"] = [r.to_json() for r in self.leftovers]  # with how to delete each
        return body


def read_status(
    aws: Aws,
    cloudformation: CloudFormation,
    app: App,
    templates: tuple[StackTemplate, ...],
    *,
    resources: bool = False,
    emulator: bool = False,
) -> StatusReport:
    """`emulator`: the endpoint is an emulator, whose ECS may count tasks as running while
    it runs no container for them; then the tasks are checked too."""
    stacks = []
    outputs: dict[StackKind, dict[str, str]] = {}
    for template in templates:
        deployed = cloudformation.describe(template.name)
        if deployed is None:
            stacks.append(StackStatus(template.name, "NOT_DEPLOYED", None, {}))
            continue
        outputs[template.kind] = deployed.outputs
        updated = deployed.last_updated.isoformat() if deployed.last_updated else None
        listed = _resources(cloudformation, template.name) if resources else ()
        stacks.append(
            StackStatus(template.name, deployed.status, updated, deployed.outputs, listed)
        )
    deployed_outputs = DeployedOutputs(app, outputs)
    services = _services(aws, app, deployed_outputs)
    cluster = deployed_outputs.network.cluster_name
    tasks = (
        running_tasks(aws, cluster)
        if emulator and cluster and any(s.running for s in services)
        else None
    )
    running = None if tasks is None else any(private_address(t) for t in tasks)
    if running:
        services = tuple(replace(s, healthy=_healthy(tasks or [], s.name)) for s in services)
    return StatusReport(
        app.name,
        app.env,
        app.region,
        tuple(stacks),
        services,
        # With a domain, fargo writes these itself: the ledger lists them.
        () if app.domain else mail_records(deployed_outputs.data),
        _edge(aws, app),
        containers_running=running,
        notes=(NO_CONTAINERS,) if running is False else (),
        warnings=tuple(w.message for w in open_policy_warnings(cloudformation, templates)),
        leftovers=tuple(LeftoverStore(aws, app).existing()),
    )


NO_CONTAINERS = "the emulator runs no containers: the services' tasks are not running"


def containers_running(aws: Aws, cluster: str) -> bool:
    """Whether any task ECS counts as running has a container. A Fargate task (awsvpc) that
    runs has an elastic network interface with a private address; an emulator that runs no
    container reports the task RUNNING with none, and one that runs it attaches one. (The
    endpoint's own tasks say so, whichever emulator it is, not fargo's record of the one it
    started.)"""
    return any(private_address(task) for task in running_tasks(aws, cluster))


def running_tasks(aws: Aws, cluster: str) -> list[dict[str, Any]]:
    arns = aws.call("ecs", "list_tasks", cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):  # DescribeTasks takes at most 100 tasks
        batch = arns[start : start + 100]
        described = aws.call("ecs", "describe_tasks", cluster=cluster, tasks=batch)["tasks"]
        tasks += [t for t in described if t.get("lastStatus") == "RUNNING"]
    return tasks


def _healthy(tasks: list[dict[str, Any]], service: str) -> int | None:
    """How many of a service's tasks ECS reports HEALTHY; None when none of them has a health
    to report (no container health check: ECS says UNKNOWN), as for a queue worker. A
    service's tasks carry the group ECS gives them, `service:NAME` (fargo names the ECS
    service after the manifest's)."""
    health = [t.get("healthStatus") for t in tasks if t.get("group") == f"service:{service}"]
    if all(status in (None, "UNKNOWN") for status in health):
        return None
    return health.count("HEALTHY")


def _edge(aws: Aws, app: App) -> dict[str, Any]:
    ledger = LedgerStore(aws, app).read()
    return {} if ledger.empty else ledger.to_json()


def mail_records(data: DataOutputs) -> tuple[DnsRecord, ...]:
    """SES Easy DKIM: three CNAMEs that verify the domain and sign its mail."""
    return tuple(DnsRecord("CNAME", name, value, "SES DKIM") for name, value in data.mail_dkim())


def _resources(cloudformation: CloudFormation, name: str) -> tuple[ResourceStatus, ...]:
    return tuple(
        ResourceStatus(
            r["LogicalResourceId"],
            r["ResourceType"],
            r.get("PhysicalResourceId", ""),
            r["ResourceStatus"],
        )
        for r in cloudformation.resources(name)
    )


def _services(aws: Aws, app: App, outputs: DeployedOutputs) -> tuple[ServiceStatus, ...]:
    cluster = outputs.network.cluster_name
    names = {s.name: outputs.services.service_name(s) for s in app.services}
    deployed = [n for n in names.values() if n]
    if not cluster or not deployed:
        return ()
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(deployed), 10):  # DescribeServices takes at most 10 names
        batch = deployed[start : start + 10]
        response = aws.call("ecs", "describe_services", cluster=cluster, services=batch)
        found.update({s["serviceName"]: s for s in response.get("services", [])})
    urls = service_urls(aws, app, outputs)
    result = []
    for service in app.services:
        raw = found.get(names[service.name] or "")
        if raw is None:
            continue
        result.append(
            ServiceStatus(
                name=service.name,
                status=raw.get("status", ""),
                desired=int(raw.get("desiredCount", 0)),
                running=int(raw.get("runningCount", 0)),
                pending=int(raw.get("pendingCount", 0)),
                task_definition=str(raw.get("taskDefinition", "")).rsplit("/", 1)[-1],
                url=urls.get(service.name),
            )
        )
    return tuple(result)
