"""A scheduled job runs: EventBridge Scheduler starts the task, its container runs to the end.

AWS: a rate() schedule without StartDate "starts invoking the target immediately", then
once per period (Scheduler User Guide, "Schedule types"); the task stops when its essential
container exits, with that container's exit code.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from fargo.local.server import Emulator
from tests.emulator.runtime.tasks import push_to_ecr

_CLUSTER = "scheduled"
# The first run starts at creation; allow the 60-second precision AWS promises and the start.
_RUN_SECONDS = 70


@pytest.fixture
def image(emulator: Emulator, busybox_layout: Path, account: str) -> str:
    """The job's image, in the account's ECR as deploy pushes it."""
    return push_to_ecr(busybox_layout, emulator.endpoint_url, account, "scheduled/report")


def test_a_rate_schedule_runs_the_job_to_completion(aws: Any, image: str) -> None:
    ecs = aws("ecs")
    cluster = ecs.create_cluster(clusterName=_CLUSTER)["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family="report",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "report",
                "image": image,
                "essential": True,
                "command": ["sh", "-c", "echo report written"],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    created = time.monotonic()
    aws("scheduler").create_schedule(
        Name="report",
        ScheduleExpression="rate(1 minute)",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="ENABLED",
        Target={
            "Arn": cluster,
            "RoleArn": f"arn:aws:iam::{cluster.split(':')[4]}:role/scheduler",
            "EcsParameters": {
                "TaskDefinitionArn": task_definition,
                "TaskCount": 1,
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {
                    "awsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "DISABLED"}
                },
            },
        },
    )
    stopped: dict[str, Any] = {}
    while time.monotonic() - created < _RUN_SECONDS:
        arns = ecs.list_tasks(cluster=_CLUSTER, desiredStatus="STOPPED")["taskArns"]
        if arns:
            (stopped,) = ecs.describe_tasks(cluster=_CLUSTER, tasks=arns[:1])["tasks"]
            break
        time.sleep(1)
    # Stop the schedule before asserting, so no further run outlives the test.
    aws("scheduler").delete_schedule(Name="report")
    assert stopped, f"no scheduled task stopped within {_RUN_SECONDS} s"
    assert stopped["taskDefinitionArn"] == task_definition
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert [c["exitCode"] for c in stopped["containers"]] == [0], stopped.get("stoppedReason")
