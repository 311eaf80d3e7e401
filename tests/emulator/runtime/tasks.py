"""One-off tasks for the runtime tests: an image pushed the way deploy pushes it (to the
account's repository in the emulator's ECR, with fargo's own push code, named as fargo's task
definitions name it, `<repository URI>@<digest>`), run with RunTask to completion."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mypy_boto3_ecs import ECSClient

from fargo.aws.facade import Aws, AwsConfig
from fargo.images import push
from fargo.images.ecr import Ecr


def push_to_ecr(layout: Path, endpoint_url: str, account: str, repository: str) -> str:
    """Push the OCI layout to `repository` in `account`; its digest-pinned reference."""
    ecr = Ecr(
        Aws(
            AwsConfig(
                region="us-east-1",
                endpoint_url=endpoint_url,
                static_credentials=(account, "test"),
                retry_mode="standard",
                max_attempts=3,
            )
        )
    )
    created = ecr.ensure_repository(repository, keep=5, tags={})
    target = ecr.push_target()
    pushed = push(layout, f"{target.registry}/{created.name}:v1", credentials=target.credentials)
    return f"{created.uri}@{pushed.digest}"


def run_to_completion(
    ecs: ECSClient,
    image: str,
    script: str,
    *,
    cpu_architecture: str | None = None,
    **container: Any,
) -> dict[str, Any]:
    """RunTask a one-container Fargate task running `sh -c script`, on `cpu_architecture`
    (X86_64 or ARM64, as a runtimePlatform) when given; the task once STOPPED (or as it is
    after 90 s). `container`: more of the container definition."""
    ecs.create_cluster(clusterName="runtime")
    platform: dict[str, Any] = (
        {"runtimePlatform": {"cpuArchitecture": cpu_architecture}} if cpu_architecture else {}
    )
    family = ecs.register_task_definition(
        family="runtime",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        **platform,
        containerDefinitions=[
            {"name": "main", "image": image, "command": ["sh", "-c", script], **container}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    (task,) = ecs.run_task(
        cluster="runtime",
        taskDefinition=family,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    )["tasks"]
    deadline = time.monotonic() + 90
    while True:
        (described,) = ecs.describe_tasks(cluster="runtime", tasks=[task["taskArn"]])["tasks"]
        if described["lastStatus"] == "STOPPED" or time.monotonic() > deadline:
            return dict(described)
        time.sleep(0.5)


def exit_codes(task: dict[str, Any]) -> list[Any]:
    """The containers' exit codes, once the task stopped because its container exited."""
    assert task["lastStatus"] == "STOPPED", task["lastStatus"]
    assert task["stopCode"] == "EssentialContainerExited", task.get("stoppedReason")
    return [c.get("exitCode") for c in task["containers"]]
