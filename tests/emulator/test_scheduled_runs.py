"""EventBridge Scheduler starts its ECS targets on time, on the records-only emulator.

AWS: a rate() schedule without StartDate "starts invoking the target immediately"; a
DISABLED schedule invokes nothing; at() invokes once; a schedule invokes "with 60 second
precision" (Scheduler User Guide, "Schedule types"). Records-only, RunTask records the task.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

_CLUSTER = "jobs"
_WAIT_SECONDS = 10
# How far ahead a start date or at() time is set: time to see that nothing runs before it,
# on a machine where creating the schedule may itself take a few seconds.
_LEAD_SECONDS = 8


@pytest.fixture
def target(aws: Any) -> dict[str, Any]:
    """An ECS target as fargo's templates give it: cluster, task definition, Fargate, awsvpc."""
    ecs = aws("ecs")
    cluster = ecs.create_cluster(clusterName=_CLUSTER)["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family="nightly",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "main", "image": "busybox", "command": ["true"]}],
    )["taskDefinition"]["taskDefinitionArn"]
    return {
        "Arn": cluster,
        "RoleArn": f"arn:aws:iam::{cluster.split(':')[4]}:role/scheduler",
        "EcsParameters": {
            "TaskDefinitionArn": task_definition,
            "TaskCount": 1,
            "LaunchType": "FARGATE",
            "Group": "scheduled-nightly",
            "PropagateTags": "TASK_DEFINITION",
            "EnableECSManagedTags": True,
            "NetworkConfiguration": {
                "awsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "DISABLED"}
            },
        },
    }


def _tasks(aws: Any) -> list[dict[str, Any]]:
    ecs = aws("ecs")
    arns = ecs.list_tasks(cluster=_CLUSTER)["taskArns"]
    return ecs.describe_tasks(cluster=_CLUSTER, tasks=arns)["tasks"] if arns else []


def _wait_for_tasks(aws: Any, count: int, seconds: float = _WAIT_SECONDS) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while len(tasks := _tasks(aws)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return tasks


def _nothing_starts_before(aws: Any, due: datetime) -> None:
    """No task runs until 2 s before `due` (the expression is given in whole seconds, and
    the emulator's scheduler ticks each second), checked as that time passes."""
    while datetime.now(UTC) < due - timedelta(seconds=2):
        assert _tasks(aws) == [], f"a task started before {due:%H:%M:%S}"
        time.sleep(0.5)


def test_a_rate_schedule_starts_its_task_at_once(aws: Any, target: dict[str, Any]) -> None:
    created = time.time()
    aws("scheduler").create_schedule(
        Name="nightly",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )
    tasks = _wait_for_tasks(aws, 1)
    assert len(tasks) == 1
    (task,) = tasks
    assert task["taskDefinitionArn"] == target["EcsParameters"]["TaskDefinitionArn"]
    assert task["group"] == "scheduled-nightly"
    assert task["launchType"] == "FARGATE"
    # Within the 60-second precision AWS promises (here, within a few seconds).
    assert task["createdAt"].timestamp() - created < _WAIT_SECONDS
    # The next run is an hour away: nothing more starts now.
    time.sleep(2)
    assert len(_tasks(aws)) == 1


def test_a_disabled_schedule_starts_nothing(aws: Any, target: dict[str, Any]) -> None:
    aws("scheduler").create_schedule(
        Name="paused",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="DISABLED",
        Target=target,
    )
    time.sleep(3)
    assert _tasks(aws) == []


def test_a_schedule_waits_for_its_start_date(aws: Any, target: dict[str, Any]) -> None:
    start = datetime.now(UTC) + timedelta(seconds=_LEAD_SECONDS)
    aws("scheduler").create_schedule(
        Name="later",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        StartDate=start,
        Target=target,
    )
    _nothing_starts_before(aws, start)
    (task,) = _wait_for_tasks(aws, 1)
    assert task["createdAt"] >= start.replace(microsecond=0)


def test_an_at_schedule_runs_once_in_its_time_zone(aws: Any, target: dict[str, Any]) -> None:
    zone = "Asia/Kolkata"  # UTC+05:30: a wall-clock time that is not the UTC one
    when = datetime.now(UTC) + timedelta(seconds=_LEAD_SECONDS)
    local = when.astimezone(ZoneInfo(zone))
    aws("scheduler").create_schedule(
        Name="once",
        ScheduleExpression=f"at({local.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone=zone,
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target=target,
    )
    _nothing_starts_before(aws, when)
    (task,) = _wait_for_tasks(aws, 1)
    assert task["createdAt"] >= when.replace(microsecond=0)
    time.sleep(2)
    assert len(_tasks(aws)) == 1
    # ActionAfterCompletion DELETE: the schedule is gone once it has run.
    assert aws("scheduler").list_schedules()["Schedules"] == []


def test_a_spot_job_runs_on_its_capacity_provider(aws: Any, target: dict[str, Any]) -> None:
    """fargo puts a `spot` job on FARGATE_SPOT through a capacity provider strategy."""
    ecs_parameters = dict(target["EcsParameters"])
    del ecs_parameters["LaunchType"]
    ecs_parameters["CapacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    aws("ecs").put_cluster_capacity_providers(
        cluster=_CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[],
    )
    aws("scheduler").create_schedule(
        Name="spot",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={**target, "EcsParameters": ecs_parameters},
    )
    (task,) = _wait_for_tasks(aws, 1)
    assert task["capacityProviderName"] == "FARGATE_SPOT"


def test_a_run_that_cannot_start_goes_to_the_dead_letter_queue(
    aws: Any, target: dict[str, Any]
) -> None:
    """AWS retries per RetryPolicy, then sends the undelivered event to DeadLetterConfig."""
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="schedule-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    missing = target["EcsParameters"]["TaskDefinitionArn"].replace("nightly:1", "gone:1")
    schedule_arn = aws("scheduler").create_schedule(
        Name="broken",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            **target,
            "EcsParameters": {**target["EcsParameters"], "TaskDefinitionArn": missing},
            "RetryPolicy": {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": arn},
        },
    )["ScheduleArn"]
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=_WAIT_SECONDS).get("Messages")
    assert messages, "nothing reached the dead-letter queue"
    assert schedule_arn in messages[0]["Body"]
    assert _tasks(aws) == []
