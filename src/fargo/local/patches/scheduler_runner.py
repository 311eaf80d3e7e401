"""EventBridge Scheduler runs its schedules on time, ECS targets included.

Gap (ministack 1.5.33): ministack's schedule ticker sweeps every 10 seconds,
reads cron() in UTC whatever ScheduleExpressionTimezone says, lets a cron
schedule's first occurrence pass unfired, and hands every target to
EventBridge's rule dispatcher, which starts no ECS task ("unsupported target
type"): a scheduled job never ran.

The ticker here sweeps every second, from ministack's own ticker thread (one
per emulator process, started with the server), and keeps AWS's rules
(schedule_expressions.py): a rate() schedule fires when it is created (or at
its StartDate) and every period after; cron() is read on the wall clock of the
schedule's time zone; at() fires once. A DISABLED schedule does not fire;
nothing fires before StartDate or after EndDate, and a schedule whose
ActionAfterCompletion is DELETE is deleted once it has nothing left to run.
FlexibleTimeWindow OFF is honoured by firing within the second; a FLEXIBLE
window fires at the window's start, which is inside it. An occurrence missed
while the emulator was not running fires once, not once per missed period.

An ECS target (a cluster ARN with EcsParameters) runs RunTask through
ministack's ECS dispatcher in the schedule's account and region, with the
members EcsParameters names (count, launch type or capacity provider strategy,
network configuration, group, tags ...); the RoleArn is not evaluated, as no
IAM is. AWS documents no startedBy for these tasks, so none is set. With a
container engine the task runs; records-only, RunTask records it. A RunTask
that fails is retried as the RetryPolicy allows (backoff capped at a minute,
within MaximumEventAgeInSeconds) and then a dead-letter event goes to the
DeadLetterConfig queue, as AWS does; here it is JSON naming the schedule's ARN
and the error (AWS's own event carries more invocation details). Other targets go to ministack's
dispatcher as before.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import schedule_expressions
from ._ministack import attr, module, replace

Json = dict[str, Any]

_SCHEDULER = "ministack.services.scheduler"
_TICK_SECONDS = 1
# RetryPolicy defaults of CreateSchedule.
_DEFAULT_RETRIES = 185
_DEFAULT_EVENT_AGE = 86400
_MAX_BACKOFF_SECONDS = 60

_log = logging.getLogger("fargo.scheduler")


@dataclass
class _Plan:
    """When a schedule, as last modified, next fires."""

    version: tuple[Any, ...]
    due: datetime | None


_PLANS: dict[tuple[str, str, str], _Plan] = {}
_LOCK = threading.Lock()


def _epoch(value: Any) -> float | None:
    """StartDate/EndDate as stored: epoch seconds, or an ISO 8601 string."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _expression(schedule: Json) -> schedule_expressions.Expression:
    return schedule_expressions.parse(
        str(schedule.get("ScheduleExpression", "")), schedule.get("ScheduleExpressionTimezone")
    )


def _anchor(schedule: Json) -> datetime:
    """What a rate counts from: StartDate, else the schedule's creation."""
    start = _epoch(schedule.get("StartDate"))
    return _utc(start if start is not None else float(schedule.get("CreationDate") or 0))


def _next(schedule: Json, instant: datetime) -> datetime | None:
    """The first occurrence at or after ``instant`` within StartDate..EndDate."""
    start, end = _epoch(schedule.get("StartDate")), _epoch(schedule.get("EndDate"))
    if start is not None:
        instant = max(instant, _utc(start))
    due = _expression(schedule).at_or_after(instant, _anchor(schedule))
    if due is None or (end is not None and due.timestamp() > end):
        return None
    return due


def _ecs_request(target: Json) -> Json:
    """The RunTask request an ECS target's EcsParameters make (Scheduler's API shape)."""
    ecs = target.get("EcsParameters") or {}
    request: Json = {
        "cluster": target["Arn"],
        "taskDefinition": ecs["TaskDefinitionArn"],
        "count": int(ecs.get("TaskCount") or 1),
    }
    simple = {
        "LaunchType": "launchType",
        "PlatformVersion": "platformVersion",
        "Group": "group",
        "PropagateTags": "propagateTags",
        "ReferenceId": "referenceId",
        "EnableECSManagedTags": "enableECSManagedTags",
        "EnableExecuteCommand": "enableExecuteCommand",
        "CapacityProviderStrategy": "capacityProviderStrategy",
        "PlacementConstraints": "placementConstraints",
        "PlacementStrategy": "placementStrategy",
    }
    for member, name in simple.items():
        if ecs.get(member) not in (None, "", []):
            request[name] = ecs[member]
    if ecs.get("Tags"):
        request["tags"] = [
            {"key": k, "value": v} for tag in ecs["Tags"] for k, v in dict(tag).items()
        ]
    vpc = (ecs.get("NetworkConfiguration") or {}).get("awsvpcConfiguration")
    if vpc:
        request["networkConfiguration"] = {
            "awsvpcConfiguration": {
                name: vpc[member]
                for member, name in (
                    ("Subnets", "subnets"),
                    ("SecurityGroups", "securityGroups"),
                    ("AssignPublicIp", "assignPublicIp"),
                )
                if member in vpc
            }
        }
    return request


def _run_task(target: Json) -> str:
    """RunTask through ministack's ECS dispatcher; the refusal's message, or ''."""
    ecs = module("ministack.services.ecs")
    status, _headers, body = ecs._dispatch_action("RunTask", _ecs_request(target))
    answer = json.loads(body or b"{}")
    if status >= 400:
        return str(answer.get("message") or answer.get("Message") or answer)
    if answer.get("failures"):
        return json.dumps(answer["failures"])
    return ""


def _dead_letter(target: Json, schedule: Json, error: str) -> None:
    """AWS sends an event it could not deliver to the DeadLetterConfig queue."""
    arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    if not arn:
        return
    spec = module("ministack.core.arn").parse_arn(arn)
    body = json.dumps({"ScheduleArn": schedule.get("Arn"), "Error": error})
    module("ministack.services.eventbridge")._dispatch_to_sqs(spec, body)


def _deliver_ecs(schedule: Json, account: str, region: str, fired: float) -> None:
    """One scheduled RunTask, retried as the RetryPolicy allows."""
    scope = attr(module("ministack.core.responses"), "request_scope")
    target = schedule.get("Target") or {}
    policy = target.get("RetryPolicy") or {}
    retries = int(policy.get("MaximumRetryAttempts", _DEFAULT_RETRIES))
    max_age = int(policy.get("MaximumEventAgeInSeconds", _DEFAULT_EVENT_AGE))
    backoff = 1.0
    with scope(account, region):
        for attempt in range(retries + 1):
            try:
                error = _run_task(target)
            except Exception as exc:  # noqa: BLE001 - a broken request is an undelivered event
                error = str(exc)
            if not error:
                return
            _log.warning("schedule %s: RunTask failed: %s", schedule.get("Arn"), error)
            if attempt == retries or time.time() + backoff - fired > max_age:
                break
            time.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
        try:
            _dead_letter(target, schedule, error)
        except Exception:  # noqa: BLE001 - logged; the ticker must go on
            _log.exception("schedule %s: dead-letter queue unreachable", schedule.get("Arn"))


def _fire(schedule: Json, account: str, region: str, now: float) -> None:
    target = schedule.get("Target") or {}
    if target.get("EcsParameters"):
        spawn = attr(module("ministack.core.concurrency"), "spawn_background")
        spawn(_deliver_ecs, schedule, account, region, now, thread_name="fargo-scheduled-task")
        return
    scope = attr(module("ministack.core.responses"), "request_scope")
    eventbridge = module("ministack.services.eventbridge")
    event = {
        "EventId": module("ministack.core.responses").new_uuid(),
        "Source": "aws.scheduler",
        "DetailType": "Scheduled Event",
        "Detail": "{}",
        "Time": now,
        "Resources": [schedule.get("Arn", "")],
        "Account": account,
        "Region": region,
    }
    with scope(account, region):
        eventbridge._invoke_target(target, event, schedule)


def _version(schedule: Json) -> tuple[Any, ...]:
    return (schedule.get("CreationDate"), schedule.get("LastModificationDate"))


def _tick_schedule(key: tuple[str, str, str], schedule: Json, now: float) -> bool:
    """Fire one schedule if it is due; False once it has nothing left to run."""
    plan = _PLANS.get(key)
    if plan is None or plan.version != _version(schedule):
        # From the moment it was last written, so a schedule made just before this
        # sweep still fires at its first occurrence.
        since = float(schedule.get("LastModificationDate") or schedule.get("CreationDate") or now)
        plan = _Plan(_version(schedule), _next(schedule, _utc(min(since, now))))
        _PLANS[key] = plan
    if plan.due is None:
        return False
    if now < plan.due.timestamp():
        return True
    if schedule.get("State", "ENABLED") == "ENABLED":
        account, region, _ = key
        try:
            _fire(schedule, account, region, now)
        except Exception:  # noqa: BLE001 - logged; the ticker must go on
            _log.exception("schedule %s could not fire", schedule.get("Arn"))
    # The next occurrence after this one, and after now: missed periods fire once.
    plan.due = _next(schedule, _utc(max(plan.due.timestamp() + 1, now)))
    return plan.due is not None


def tick_schedules() -> None:
    """One sweep over every account's and region's schedules."""
    store = module(_SCHEDULER)._schedules
    now = time.time()
    with _LOCK:
        for key, schedule in list(store._data.items()):
            try:
                alive = _tick_schedule(key, schedule, now)
            except ValueError as exc:
                _log.warning("schedule %s is not evaluated: %s", schedule.get("Arn"), exc)
                alive = True
                _PLANS[key] = _Plan(_version(schedule), None)
            if not alive and schedule.get("ActionAfterCompletion") == "DELETE":
                store._data.pop(key, None)
                _PLANS.pop(key, None)
        for key in [k for k in _PLANS if k not in store._data]:
            del _PLANS[key]


def run_schedules() -> None:
    """Closes the gap in the module docstring: ministack's ticker thread, started with
    the server, now sweeps every second with ``tick_schedules``."""
    scheduler = module(_SCHEDULER)
    attr(scheduler, "_schedules")
    attr(scheduler, "_ticker_loop")
    attr(module("ministack.core.responses"), "request_scope")
    attr(module("ministack.core.concurrency"), "spawn_background")
    attr(module("ministack.services.ecs"), "_dispatch_action")
    attr(module("ministack.services.eventbridge"), "_invoke_target")
    attr(module("ministack.services.eventbridge"), "_dispatch_to_sqs")
    attr(module("ministack.core.arn"), "parse_arn")
    replace(scheduler, "_SCHEDULE_TICK_INTERVAL", _TICK_SECONDS)
    replace(scheduler, "_tick_schedules", tick_schedules)
