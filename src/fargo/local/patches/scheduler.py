"""AWS::Scheduler::Schedule: the schedule GetSchedule shows is the template's.

Gap (ministack 1.5.33): the Schedule provisioner copies the template's Target
into the store unchanged and drops most of the rest:

- EventBridge Scheduler's API spells some ECS members in camelCase where the
  template uses PascalCase (``NetworkConfiguration.awsvpcConfiguration``,
  ``CapacityProviderStrategy[].capacityProvider/weight/base``,
  ``PlacementConstraints[].type/expression``, ``PlacementStrategy[].type/
  field``). GetSchedule answers with the stored PascalCase names and botocore
  drops them: an ECS target came back with ``NetworkConfiguration: {}`` and a
  capacity provider strategy of ``[{}]``.
- ScheduleExpressionTimezone, StartDate, EndDate and KmsKeyArn were ignored
  (GetSchedule said UTC for a Europe/Berlin schedule), and numbers a template
  gives as strings were stored as strings.
- Create ignored CreateSchedule's answer, so a refused schedule (a missing
  RoleArn, an unknown group) still "created"; update only overwrote the
  members present, so a dropped Description or RetryPolicy stayed.

The provisioner here builds the API request from the template (CreateSchedule
on create, UpdateSchedule, which replaces the whole schedule as on AWS, on
update), fails the resource on a refusal, and checks the expression is
``rate(...)``, ``cron(...)`` or ``at(...)``. Ref is the schedule name and
GetAtt Arn its ARN, as on AWS. Name replaces the schedule; a GroupName change
moves it. scheduler_runner.py runs the schedules.
"""

import json
import re
from types import ModuleType
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, provisioner_table, registered

Props = dict[str, Any]
Provisioned = tuple[str, dict[str, Any]]

_TYPE = "AWS::Scheduler::Schedule"
_SCHEDULER = "ministack.services.scheduler"
_EXPRESSION = re.compile(r"(rate|cron|at)\(.+\)")
_MEMBERS = (
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "GroupName",
    "KmsKeyArn",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "State",
)
# Template member -> API member, inside the list items that the API spells in camelCase.
_ECS_LISTS = {
    "CapacityProviderStrategy": {
        "CapacityProvider": "capacityProvider",
        "Weight": "weight",
        "Base": "base",
    },
    "PlacementConstraints": {"Type": "type", "Expression": "expression"},
    "PlacementStrategy": {"Type": "type", "Field": "field"},
}
_INTEGERS = frozenset(
    {
        "MaximumEventAgeInSeconds",
        "MaximumRetryAttempts",
        "MaximumWindowInMinutes",
        "TaskCount",
        "base",
        "weight",
    }
)
_BOOLEANS = frozenset({"EnableECSManagedTags", "EnableExecuteCommand"})


def _typed(value: Any) -> Any:
    """Numbers and flags a template may give as strings, as the API's shapes type them."""
    if isinstance(value, dict):
        typed = {}
        for key, item in value.items():
            if key in _INTEGERS and isinstance(item, str):
                typed[key] = int(item)
            elif key in _BOOLEANS and isinstance(item, str):
                typed[key] = item.lower() == "true"
            else:
                typed[key] = _typed(item)
        return typed
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return value


def _ecs_parameters(ecs: Props) -> Props:
    api = dict(ecs)
    network = ecs.get("NetworkConfiguration") or {}
    if "AwsvpcConfiguration" in network:
        api["NetworkConfiguration"] = {"awsvpcConfiguration": network["AwsvpcConfiguration"]}
    for member, names in _ECS_LISTS.items():
        if member in ecs:
            api[member] = [{names.get(k, k): v for k, v in item.items()} for item in ecs[member]]
    return api


def _request(props: Props) -> Props:
    """The CreateSchedule / UpdateSchedule body for a template's properties."""
    expression = str(props.get("ScheduleExpression", ""))
    if not _EXPRESSION.fullmatch(expression):
        raise ValueError(
            f"Invalid Schedule Expression {expression}. A schedule expression is "
            "rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss)"
        )
    body = {k: props[k] for k in _MEMBERS if k in props}
    target = dict(props.get("Target") or {})
    if "EcsParameters" in target:
        target["EcsParameters"] = _ecs_parameters(target["EcsParameters"])
    if isinstance(target.get("Input"), (dict, list)):
        target["Input"] = json.dumps(target["Input"])
    body["Target"] = target
    typed: Props = _typed(body)
    return typed


def _scheduler() -> ModuleType:
    return module(_SCHEDULER)


def _checked(response: tuple[int, Any, Any], action: str) -> None:
    status, _headers, payload = response
    if status >= 400:
        try:
            error = json.loads(payload)
            message = f"{error.get('__type')}: {error.get('Message') or error.get('message')}"
        except (TypeError, ValueError):
            message = str(payload)
        raise ValueError(f"{_TYPE} {action} failed: {message}")


def _arn(group: str, name: str) -> dict[str, Any]:
    return {"Arn": _scheduler()._schedule_arn(group, name)}


def _create(logical_id: str, props: Props, stack_name: str) -> Provisioned:
    provisioners = module("ministack.services.cloudformation.provisioners")
    name = props.get("Name") or provisioners._physical_name(stack_name, logical_id, max_len=64)
    body = _request(props)
    _checked(_scheduler()._create_schedule(name, body), "create")
    return name, _arn(body.get("GroupName", "default"), name)


def _delete(physical_id: str, props: Props) -> None:
    scheduler = _scheduler()
    schedule = scheduler._schedules.pop(f"{props.get('GroupName', 'default')}/{physical_id}", None)
    if schedule:
        scheduler._tags.pop(schedule.get("Arn", ""), None)


def _update(physical_id: str, old_props: Props, new_props: Props, stack_name: str) -> Provisioned:
    body = _request(new_props)
    group = body.get("GroupName", "default")
    if old_props.get("GroupName", "default") != group:
        _checked(_scheduler()._create_schedule(physical_id, body), "update")
        _delete(physical_id, old_props)
    else:
        _checked(_scheduler()._update_schedule(physical_id, body), "update")
    return physical_id, _arn(group, physical_id)


def provision_schedules() -> None:
    """Closes the gap in the module docstring: swaps the Schedule handlers and
    lets Name replace a schedule."""
    scheduler = _scheduler()
    for name in ("_create_schedule", "_update_schedule", "_schedule_arn", "_schedules", "_tags"):
        attr(scheduler, name)
    attr(module("ministack.services.cloudformation.provisioners"), "_physical_name")
    replacing = provisioner_table("_REPLACING_PROPERTIES")
    if _TYPE in replacing:
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: it now classifies {_TYPE} changes"
        )
    entry = registered(_TYPE)
    entry.update(create=_create, update=_update, delete=_delete)
    entry.pop("update_with_logical_id", None)
    replacing[_TYPE] = ("Name",)
