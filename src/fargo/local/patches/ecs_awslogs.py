"""ECS awslogs: a task's output reaches its log group as on AWS.

Gap 1 (ministack 1.5.33): when a container definition's awslogs group does not exist
(and ``awslogs-create-group`` is not ``true``), ministack starts the task anyway and
drops the container's output with a warning in its own log, so a misnamed group
loses every line without a word. On AWS the task does not start: it stops with
stopCode TaskFailedToStart and a ResourceInitializationError naming the missing
group. Here it does the same, before any container is created.

Gap 2 (ministack 1.5.33): a container's output is copied into its log stream by a thread
that follows the container's log, while another thread marks the task STOPPED once the
container has exited; the task could read STOPPED before its last lines were in the stream,
so a one-off task's final line (a migration's "migration complete") was missing for whoever
read the stream after seeing STOPPED. On AWS the awslogs driver has sent the container's
output by the time the container has stopped, before the task reaches STOPPED. Here, a task
whose essential container exited is marked STOPPED once its forwarders have sent what the
container wrote (they end with the container's log), waiting at most 15 s.

Gap 3 (ministack 1.5.33): the forwarder split each chunk the engine's log stream handed it
into lines, so a line that straddled two chunks became two events ("line 14", "01"): a
task that wrote 5,000 lines quickly left some 5,004 events. The awslogs driver sends one
event per line. Here the forwarder keeps a chunk's unfinished last line until the next
chunk (or the log's end) completes it.
"""

import codecs
import threading
import time
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
# ministack names each forwarder thread after the task: `_start_awslogs_forwarder`.
_FORWARDER = "ministack-ecs-awslogs-{}-"
# A forwarder ends as the exited container's log stream closes: milliseconds, not seconds,
# but a task that wrote thousands of lines just before exiting, on a loaded machine, takes
# longer to copy; the cap only bounds a forwarder that never ends.
_DRAIN_SECONDS = 15.0


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
    """Closes gap 1 in the module docstring."""
    ecs = module(_ECS)
    for name in ("_awslogs_config", "_fail_task_start", "get_region", "get_account_id"):
        attr(ecs, name)
    attr(module(_LOGS), "_log_groups")
    replace(ecs, "_start_task_worker", _checking_log_groups(ecs, attr(ecs, "_start_task_worker")))


def _forwarders_done(task_arn: str) -> None:
    prefix = _FORWARDER.format(task_arn.rsplit("/", 1)[-1][:8])
    deadline = time.monotonic() + _DRAIN_SECONDS
    for thread in threading.enumerate():
        if thread.name.startswith(prefix) and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))


def _after_output(mark_stopped: Callable[..., Any]) -> Callable[..., Any]:
    def mark_task_stopped(
        task_arn: str, task: dict[str, Any], reason: str, stop_code: str, exit_code: Any = None
    ) -> Any:
        if stop_code == "EssentialContainerExited":
            _forwarders_done(task_arn)
        return mark_stopped(task_arn, task, reason, stop_code, exit_code)

    return mark_task_stopped


def deliver_output_before_stopped() -> None:
    """Closes gap 2 in the module docstring."""
    ecs = module(_ECS)
    attr(ecs, "_start_awslogs_forwarder")
    replace(ecs, "_mark_task_stopped", _after_output(attr(ecs, "_mark_task_stopped")))


def _lines(chunks: Any) -> Any:
    """The lines of a log read in chunks, a line (or a character) split across chunks
    joined again."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    rest = ""
    for chunk in chunks:
        if not chunk:
            continue
        text = rest + decoder.decode(chunk)
        *lines, rest = text.split("\n")
        yield from (line.removesuffix("\r") for line in lines)
    rest += decoder.decode(b"", final=True)
    if rest:
        yield rest


def _forwarding_whole_lines(ecs: ModuleType) -> Callable[..., None]:
    scope = attr(ecs, "request_scope")

    def forward_awslogs(
        container: Any, config: dict[str, Any], account_id: str, region: str
    ) -> None:
        with scope(account_id, region):
            if not ecs._ensure_awslogs_stream(config):
                return
            try:
                chunks = container.logs(stream=True, follow=True, stdout=True, stderr=True)
                for line in _lines(chunks):
                    ecs._emit_awslogs_event(config, line)
            except Exception:  # noqa: BLE001 - as ministack's: the container or engine went
                return

    return forward_awslogs


def forward_whole_lines() -> None:
    """Closes gap 3 in the module docstring."""
    ecs = module(_ECS)
    for name in ("_ensure_awslogs_stream", "_emit_awslogs_event"):
        attr(ecs, name)
    replace(ecs, "_forward_awslogs", _forwarding_whole_lines(ecs))
