"""ECS awslogs: a task whose log group does not exist fails to start, as on AWS.

Gap (ministack 1.5.33): when a container definition's awslogs group does not exist
(and ``awslogs-create-group`` is not ``true``), ministack starts the task anyway and
drops the container's output with a warning in its own log, so a misnamed group
loses every line without a word. On AWS the task does not start: it stops with
stopCode TaskFailedToStart and a ResourceInitializationError naming the missing
group. Here it does the same, before any container is created.
"""

from collections.abc import Callable
from types import ModuleType
from typing import Any

from ._ministack import attr, module, replace

_ECS = "ministack.services.ecs"
_LOGS = "ministack.services.cloudwatch_logs"
_MISSING_GROUP = (
    "ResourceInitializationError: failed to validate logger args: create stream has been "
    "retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: "
    "The specified log group does not exist. : exit status 1"
)


def _missing_group(ecs: ModuleType, logs: ModuleType, td: dict[str, Any]) -> bool:
    groups = attr(logs, "_log_groups")
    for cdef in td.get("containerDefinitions") or []:
        config = ecs._awslogs_config(cdef, "", "")
        if not config or config["create_group"]:
            continue
        region = config["region"] or ecs.get_region()
        if not groups.contains_scoped(ecs.get_account_id(), region, config["group"]):
            return True
    return False


def _checking_log_groups(ecs: ModuleType, start: Callable[..., Any]) -> Callable[..., Any]:
    logs = module(_LOGS)

    def start_task_worker(
        task: dict[str, Any], td: dict[str, Any], overrides: Any, docker_client: Any
    ) -> Any:
        if _missing_group(ecs, logs, td):
            ecs._fail_task_start(task, docker_client, _MISSING_GROUP)
            return None
        return start(task, td, overrides, docker_client)

    return start_task_worker


def fail_tasks_without_their_log_group() -> None:
    """Closes the gap in the module docstring."""
    ecs = module(_ECS)
    for name in ("_awslogs_config", "_fail_task_start", "get_region", "get_account_id"):
        attr(ecs, name)
    attr(module(_LOGS), "_log_groups")
    replace(ecs, "_start_task_worker", _checking_log_groups(ecs, attr(ecs, "_start_task_worker")))
