"""A scheduled job runs: EventBridge Scheduler starts the task, its container runs to the end.

AWS: a rate() schedule without StartDate "starts invoking the target immediately", then
once per period (Scheduler User Guide, "Schedule types"); the task stops when its essential
container exits, with that container's exit code.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from fargo.local import engine as container_engine
from fargo.local.server import Emulator
from tests.integration.build_helpers import make_base_layout

_IMAGE = "localhost/fargo-scheduled-base:latest"
_CLUSTER = "scheduled"
# The first run starts at creation; allow the 60-second precision AWS promises and the start.
_RUN_SECONDS = 70


@pytest.fixture(scope="module")
def image(emulator: Emulator, runtime_state: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The offline busybox base, loaded into the emulator's Podman storage."""
    if container_engine.find_docker() is not None:
        pytest.skip("a Docker daemon runs the containers: the offline base loads into Podman")
    del emulator
    layout = tmp_path_factory.mktemp("scheduled-base") / "layout"
    make_base_layout(layout)
    env = container_engine.podman_env(runtime_state) | {"PATH": "/usr/bin:/bin"}

    def podman(*argv: str) -> str:
        done = subprocess.run(
            ["podman", *argv], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    podman("tag", podman("pull", "--quiet", f"oci:{layout}:latest"), _IMAGE)
    return _IMAGE


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
    assert [c["exitCode"] for c in stopped["containers"]] == [0]
