"""ECS task health on the container emulator: what the containers say, as ECS reports it.

Gap 1 (ministack 1.5.33): a container definition's ``healthCheck`` is never run:
every task and container reports healthStatus UNKNOWN forever, and a service
keeps a task whose app has stopped answering. Here each running task's health
checks run in its containers through the engine's exec (Podman runs no
HEALTHCHECK timers without systemd, so mapping them to the image's
HEALTHCHECK would not run them there): ``CMD-SHELL`` through ``/bin/sh -c``,
``CMD`` as given, every ``interval`` seconds, a run longer than ``timeout``
counting as a failure, failures inside ``startPeriod`` not counted, a container
UNHEALTHY after ``retries`` consecutive failures and HEALTHY at a success. The
task's healthStatus is ECS's aggregate over its essential containers. A
service's task with an UNHEALTHY essential container is stopped ("Task failed
container health checks") and replaced, and so is a task whose target the load
balancer finds unhealthy once the service's healthCheckGracePeriodSeconds has
passed ("Task failed ELB health checks in (target-group ARN)"); both count as
failed tasks for the deployment circuit breaker, as on AWS.

Gap 2 (ministack 1.5.33): a service deployment completes once its tasks have
been RUNNING for a second, healthy or not. On AWS a task counts toward a
completed rollout only when its container health checks pass and, behind a
load balancer, its targets are healthy. Here it waits for both.

Gap 3 (ministack 1.5.33): a task whose essential container exits says
"Essential container exited"; ECS says "Essential container in task exited".

Gap 4 (ministack 1.5.33): a task whose container was removed from the engine
(``podman rm -f``) stays RUNNING forever: the watcher takes a container it
cannot find for a passing engine hiccup. Here a container the engine reports as
gone stops its task, as an exited essential container does, with no exit code.
"""

import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import elb_target_health
from ._ministack import attr, containers_run, module, replace

_ECS = "ministack.services.ecs"
_ESSENTIAL_EXITED = "Essential container in task exited"
_CONTAINER_HEALTH_FAILED = "Task failed container health checks"
# How often a task's monitor looks at its checks and targets.
_TICK_SECONDS = 0.5
# How often a task's containers are looked up to learn whether they were removed.
_GONE_CHECK_SECONDS = 2.0
_NOT_FOUND = 404


class _ContainerHealth:
    """One container's health check (the container definition's healthCheck, in ECS's
    defaults: interval 30, timeout 5, retries 3, startPeriod 0)."""

    def __init__(self, index: int, docker_id: str, check: dict[str, Any], started: float) -> None:
        self.index = index
        self.docker_id = docker_id
        self.command = [str(part) for part in check.get("command") or []]
        self.interval = float(check.get("interval") or 30)
        self.timeout = float(check.get("timeout") or 5)
        self.retries = int(check.get("retries") or 3)
        self.start_period_ends = started + float(check.get("startPeriod") or 0)
        self.next_check = started + self.interval  # Docker's first check is one interval in
        self.failures = 0
        self.status = "UNKNOWN"

    def argv(self) -> list[str] | None:
        kind, *rest = self.command or ["NONE"]
        if kind == "CMD-SHELL":
            return ["/bin/sh", "-c", " ".join(rest)]
        if kind == "CMD":
            return rest
        return None


def _exec_passes(docker_client: Any, docker_id: str, argv: list[str], timeout: float) -> bool:
    """Run the check in the container; a check that outlives its timeout failed."""
    outcome: list[bool] = []

    def run() -> None:
        try:
            result = docker_client.containers.get(docker_id).exec_run(argv)
            outcome.append(result.exit_code == 0)
        except Exception:  # noqa: BLE001 - a check that cannot run has failed
            outcome.append(False)

    worker = threading.Thread(target=run, daemon=True, name="fargo-ecs-health-exec")
    worker.start()
    worker.join(timeout)
    return bool(outcome and outcome[0])


def _task_health(checks: list[_ContainerHealth], essentials: list[bool]) -> str:
    """ECS's task healthStatus from its essential containers' checks."""
    essential = [c for c in checks if c.index >= len(essentials) or essentials[c.index]]
    if not essential:
        return "UNKNOWN"
    if any(c.status == "UNHEALTHY" for c in essential):
        return "UNHEALTHY"
    if all(c.status == "HEALTHY" for c in essential):
        return "HEALTHY"
    return "UNKNOWN"


def _service_of(ecs: ModuleType, task: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    group = str(task.get("group") or "")
    cluster = ecs._cluster_name_from_arn(task.get("clusterArn", ""))
    if not cluster or not group.startswith("service:"):
        return None
    key = f"{cluster}/{group.split(':', 1)[1]}"
    svc = ecs._services.get(key)
    return (cluster, key, svc) if svc else None


def _unhealthy_target(ecs: ModuleType, svc: dict[str, Any], task: dict[str, Any]) -> str | None:
    """The first of the service's target groups that found this task's target unhealthy."""
    ip = ecs._task_ip(task)
    if not ip:
        return None
    for lb in svc.get("loadBalancers") or []:
        tg_arn = lb.get("targetGroupArn")
        port = int(lb.get("containerPort") or 80)
        if tg_arn and elb_target_health.target_state(tg_arn, ip, port) == "unhealthy":
            return str(tg_arn)
    return None


def _targets_healthy(ecs: ModuleType, svc: dict[str, Any], task: dict[str, Any]) -> bool:
    ip = ecs._task_ip(task)
    for lb in svc.get("loadBalancers") or []:
        tg_arn = lb.get("targetGroupArn")
        if not tg_arn:
            continue
        if not ip or not elb_target_health.routable(tg_arn, ip, int(lb.get("containerPort") or 80)):
            return False
    return True


def _replace_unhealthy(ecs: ModuleType, task: dict[str, Any], reason: str) -> None:
    """The service scheduler stops the task; the breaker counts it; a replacement starts."""
    if ecs._mark_task_stopped(task["taskArn"], task, reason, "ServiceSchedulerInitiated"):
        ecs._cleanup_task_resources(task, ecs._get_docker())
        ecs._record_service_task_failure(task)


def _checks_of(task: dict[str, Any], td: dict[str, Any], started: float) -> list[_ContainerHealth]:
    docker_ids = list(task.get("_docker_ids") or [])
    checks = []
    for index, cdef in enumerate(td.get("containerDefinitions") or []):
        check = cdef.get("healthCheck") or {}
        if check.get("command") and index < len(docker_ids):
            checks.append(_ContainerHealth(index, docker_ids[index], check, started))
    return [c for c in checks if c.argv() is not None]


def _monitor(ecs: ModuleType, task: dict[str, Any], docker_client: Any) -> None:
    """Run the task's health checks for as long as it lives, and act on them."""
    task_arn = task["taskArn"]
    started = time.monotonic()
    td = ecs._task_defs.get(ecs._resolve_td_key(task.get("taskDefinitionArn", ""))) or {}
    checks = _checks_of(task, td, started)
    essentials = list(task.get("_container_essentials") or [])
    while ecs._task_is_active(task_arn, task):
        now = time.monotonic()
        for check in checks:
            if check.next_check > now:
                continue
            argv = check.argv()
            passed = argv is not None and _exec_passes(
                docker_client, check.docker_id, argv, check.timeout
            )
            check.next_check = time.monotonic() + check.interval
            if passed:
                check.failures, check.status = 0, "HEALTHY"
            elif now >= check.start_period_ends:
                check.failures += 1
                if check.failures >= check.retries:
                    check.status = "UNHEALTHY"
            with ecs.resource_lock("ecs-task", task_arn):
                containers = task.get("containers") or []
                if check.index < len(containers):
                    containers[check.index]["healthStatus"] = check.status
                task["healthStatus"] = _task_health(checks, essentials)
        service = _service_of(ecs, task)
        if service is not None and task.get("lastStatus") == "RUNNING":
            svc = service[2]
            if task.get("healthStatus") == "UNHEALTHY":
                _replace_unhealthy(ecs, task, _CONTAINER_HEALTH_FAILED)
                return
            grace = float(svc.get("healthCheckGracePeriodSeconds") or 0)
            if now - started >= grace and (tg := _unhealthy_target(ecs, svc, task)):
                reason = f"Task failed ELB health checks in (target-group {tg})"
                _replace_unhealthy(ecs, task, reason)
                return
        time.sleep(_TICK_SECONDS)


def _monitoring(ecs: ModuleType, watch: Callable[..., Any]) -> Callable[..., Any]:
    def watch_task_lifecycle(
        task: dict[str, Any], docker_client: Any, account_id: str, region: str
    ) -> Any:
        def run() -> None:
            with ecs.request_scope(account_id, region):
                _monitor(ecs, task, docker_client)

        threading.Thread(target=run, daemon=True, name="fargo-ecs-task-health").start()
        return watch(task, docker_client, account_id, region)

    return watch_task_lifecycle


def run_container_health_checks() -> None:
    """Closes gap 1 in the module docstring."""
    ecs = module(_ECS)
    for name in (
        "_cluster_name_from_arn",
        "_services",
        "_task_ip",
        "_task_defs",
        "_resolve_td_key",
        "_task_is_active",
        "_mark_task_stopped",
        "_cleanup_task_resources",
        "_record_service_task_failure",
        "resource_lock",
        "request_scope",
    ):
        attr(ecs, name)
    replace(ecs, "_watch_task_lifecycle", _monitoring(ecs, attr(ecs, "_watch_task_lifecycle")))


def _ready(ecs: ModuleType, svc_key: str, task: dict[str, Any]) -> bool:
    svc = ecs._services.get(svc_key)
    if not svc:
        return True
    td = ecs._task_defs.get(ecs._resolve_td_key(task.get("taskDefinitionArn", ""))) or {}
    essentials = list(task.get("_container_essentials") or [])
    checked = any(
        (cdef.get("healthCheck") or {}).get("command")
        and (index >= len(essentials) or essentials[index])
        for index, cdef in enumerate(td.get("containerDefinitions") or [])
    )
    if checked and task.get("healthStatus") != "HEALTHY":
        return False
    return _targets_healthy(ecs, svc, task)


def _waiting_for_health(ecs: ModuleType, record: Callable[..., Any]) -> Callable[..., Any]:
    def record_service_task_healthy(svc_key: str, task: dict[str, Any]) -> Any:
        # Called from the deployment's own background check, so waiting here holds no
        # request; a task that fails its checks is stopped by its monitor, ending the wait.
        while containers_run() and ecs._task_is_active(task.get("taskArn"), task):
            if _ready(ecs, svc_key, task):
                break
            time.sleep(_TICK_SECONDS)
        return record(svc_key, task)

    return record_service_task_healthy


def complete_rollouts_on_health() -> None:
    """Closes gap 2 in the module docstring."""
    ecs = module(_ECS)
    replace(
        ecs,
        "_record_service_task_healthy",
        _waiting_for_health(ecs, attr(ecs, "_record_service_task_healthy")),
    )


def _ecs_reason(mark_stopped: Callable[..., Any]) -> Callable[..., Any]:
    def mark_task_stopped(
        task_arn: str, task: dict[str, Any], reason: str, stop_code: str, exit_code: Any = None
    ) -> Any:
        if stop_code == "EssentialContainerExited" and reason == "Essential container exited":
            reason = _ESSENTIAL_EXITED
        return mark_stopped(task_arn, task, reason, stop_code, exit_code)

    return mark_task_stopped


def say_essential_container_in_task_exited() -> None:
    """Closes gap 3 in the module docstring."""
    ecs = module(_ECS)
    replace(ecs, "_mark_task_stopped", _ecs_reason(attr(ecs, "_mark_task_stopped")))


def _removed_container(docker_client: Any, task: dict[str, Any]) -> bool:
    """Whether the engine says an essential container of the task no longer exists."""
    essentials = list(task.get("_container_essentials") or [])
    for index, docker_id in enumerate(list(task.get("_docker_ids") or [])):
        if index < len(essentials) and not essentials[index]:
            continue
        try:
            docker_client.containers.get(docker_id)
        except Exception as error:  # noqa: BLE001 - docker-py's NotFound is a 404 APIError
            # Anything but the engine's 404 (it did not answer) is no evidence either way.
            if getattr(error, "status_code", None) == _NOT_FOUND:
                return True
    return False


def _noticing_removal(ecs: ModuleType, maybe_stopped: Callable[..., Any]) -> Callable[..., Any]:
    def maybe_mark_stopped(task: dict[str, Any], docker_client: Any = None) -> Any:
        now = time.monotonic()
        if (
            task.get("lastStatus") == "RUNNING"
            and task.get("_docker_ids")
            and now >= float(task.get("_fargo_gone_check") or 0)
        ):
            task["_fargo_gone_check"] = now + _GONE_CHECK_SECONDS
            client = docker_client or ecs._get_docker()
            if client is not None and _removed_container(client, task):
                if ecs._mark_task_stopped(
                    task["taskArn"], task, _ESSENTIAL_EXITED, "EssentialContainerExited"
                ):
                    ecs._cleanup_task_resources(task, None)
                return None
        return maybe_stopped(task, docker_client)

    return maybe_mark_stopped


def stop_tasks_whose_container_is_gone() -> None:
    """Closes gap 4 in the module docstring."""
    ecs = module(_ECS)
    replace(ecs, "_maybe_mark_stopped", _noticing_removal(ecs, attr(ecs, "_maybe_mark_stopped")))
