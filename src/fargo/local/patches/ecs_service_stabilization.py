"""AWS::ECS::Service waits for its deployment, as CloudFormation does on AWS.

Gap 1 (ministack 1.5.33): a new service's first deployment is COMPLETED the
moment it is created, before any task runs. On AWS it is IN_PROGRESS until its
tasks are running and healthy. When the emulator runs containers, a first
deployment that has tasks to start begins IN_PROGRESS here, and ministack's own
rollout completes it once its tasks are steady (see ecs_task_health).

Gap 2 (ministack 1.5.33): the CloudFormation provisioner creates or updates the
service and reports it done at once. On AWS the resource is complete only when
the service is stable (its deployment COMPLETED), and it fails when the
deployment circuit breaker trips, which rolls the stack back. When the emulator
runs containers the provisioner here waits for the deployment it started, up to
an hour, and fails the resource with the breaker's message; a records-only
emulator has nothing to wait for and stays instant.

Gap 3 (ministack 1.5.33): the create provisioner drops
HealthCheckGracePeriodSeconds, so the scheduler judged a new service's tasks by
their target health from their first second. It is set on the service here.
"""

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ._ministack import attr, containers_run, module, registered, replace

_TYPE = "AWS::ECS::Service"
_ECS = "ministack.services.ecs"
_PROVISIONERS = "ministack.services.cloudformation.provisioners"
_STABILIZE_SECONDS = 3600.0
_POLL_SECONDS = 0.5

Props = dict[str, Any]


def _starting_in_progress(make: Callable[..., Any]) -> Callable[..., Any]:
    def make_deployment(task_definition: str, desired_count: int, status: str = "PRIMARY") -> Any:
        deployment = make(task_definition, desired_count, status)
        if status == "PRIMARY" and int(desired_count or 0) > 0 and containers_run():
            deployment["rolloutState"] = "IN_PROGRESS"
            deployment["rolloutStateReason"] = ""
        return deployment

    return make_deployment


def start_first_deployments_in_progress() -> None:
    """Closes gap 1 in the module docstring."""
    ecs = module(_ECS)
    replace(ecs, "_make_deployment", _starting_in_progress(attr(ecs, "_make_deployment")))


def _service(ecs: ModuleType, props: Props, physical_id: str) -> tuple[str, dict[str, Any]] | None:
    cluster = ecs._resolve_cluster_name(props.get("Cluster", "default")) or "default"
    name = props.get("ServiceName") or physical_id.rsplit("/", 1)[-1]
    svc = ecs._services.get(f"{cluster}/{name}")
    return (f"{cluster}/{name}", svc) if svc else None


def _wait_for_deployment(ecs: ModuleType, props: Props, physical_id: str) -> None:
    found = _service(ecs, props, physical_id)
    if found is None:
        return
    svc_key, svc = found
    primary = ecs._primary_deployment(svc)
    if primary is None:
        return
    deadline = time.monotonic() + _STABILIZE_SECONDS
    while primary.get("rolloutState") == "IN_PROGRESS":
        if time.monotonic() > deadline or ecs._services.get(svc_key) is not svc:
            raise ValueError(
                f"Service {svc['serviceName']} did not stabilize within "
                f"{int(_STABILIZE_SECONDS)} seconds: its tasks did not become healthy"
            )
        time.sleep(_POLL_SECONDS)
    if primary.get("rolloutState") == "FAILED":
        raise ValueError(
            "Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'. "
            f"{primary.get('rolloutStateReason') or ''}".strip()
        )


def _stabilizing_create(ecs: ModuleType, create: Callable[..., Any]) -> Callable[..., Any]:
    def created(logical_id: str, props: Props, stack_name: str) -> Any:
        physical_id, attributes = create(logical_id, props, stack_name)
        if containers_run():
            _wait_for_deployment(ecs, props, physical_id)
        return physical_id, attributes

    return created


def _stabilizing_update(ecs: ModuleType, update: Callable[..., Any]) -> Callable[..., Any]:
    def updated(physical_id: str, old_props: Props, new_props: Props, stack_name: str) -> Any:
        result = update(physical_id, old_props, new_props, stack_name)
        if containers_run():
            _wait_for_deployment(ecs, new_props, physical_id)
        return result

    return updated


def wait_for_stable_services() -> None:
    """Closes gap 2 in the module docstring."""
    ecs = module(_ECS)
    for name in ("_resolve_cluster_name", "_services", "_primary_deployment"):
        attr(ecs, name)
    provisioners = module(_PROVISIONERS)
    entry = registered(_TYPE)
    create = _stabilizing_create(ecs, attr(provisioners, "_ecs_service_create"))
    update = _stabilizing_update(ecs, attr(provisioners, "_ecs_service_update"))
    replace(provisioners, "_ecs_service_create", create)
    replace(provisioners, "_ecs_service_update", update)
    entry["create"], entry["update"] = create, update


def _with_grace_period(ecs: ModuleType, create: Callable[..., Any]) -> Callable[..., Any]:
    def created(logical_id: str, props: Props, stack_name: str) -> Any:
        physical_id, attributes = create(logical_id, props, stack_name)
        found = _service(ecs, props, physical_id)
        if found is not None and "HealthCheckGracePeriodSeconds" in props:
            found[1]["healthCheckGracePeriodSeconds"] = int(props["HealthCheckGracePeriodSeconds"])
        return physical_id, attributes

    return created


def keep_health_check_grace_period() -> None:
    """Closes gap 3 in the module docstring. Applied before the wait, which it wraps:
    the grace period is on the service while its first tasks start."""
    ecs = module(_ECS)
    provisioners = module(_PROVISIONERS)
    create = _with_grace_period(ecs, attr(provisioners, "_ecs_service_create"))
    replace(provisioners, "_ecs_service_create", create)
    registered(_TYPE)["create"] = create
