"""Whether the tasks ECS counts as running have a container. The emulator's own answer (tasks
RUNNING with no network interface) is checked against the emulator in
tests/emulator/test_cli.py; a task that runs, with the elastic network interface every
running Fargate task has, is a shape it cannot produce without containers, so ECS's answers
come from botocore's Stubber, which checks them against ECS's own API model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from fargo.aws.facade import Aws, AwsConfig
from fargo.status import containers_running

CLUSTER = "shop-default-network-Cluster"
TASK = f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/5d171ab868c54953"


@pytest.fixture
def ecs() -> Iterator[tuple[Aws, Stubber]]:
    aws = Aws(AwsConfig(region="us-east-1", static_credentials=("AKIDEXAMPLE", "secret")))
    with Stubber(aws.client("ecs")) as stubber:
        yield aws, stubber
        stubber.assert_no_pending_responses()


def task(attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {"taskArn": TASK, "lastStatus": "RUNNING", "attachments": attachments}


def expect(stubber: Stubber, listed: dict[str, Any]) -> None:
    stubber.add_response(
        "list_tasks", {"taskArns": [TASK]}, {"cluster": CLUSTER, "desiredStatus": "RUNNING"}
    )
    stubber.add_response(
        "describe_tasks", {"tasks": [listed]}, {"cluster": CLUSTER, "tasks": [TASK]}
    )


def test_a_running_task_with_a_network_interface_runs_a_container(
    ecs: tuple[Aws, Stubber],
) -> None:
    aws, stubber = ecs
    eni = {
        "id": "a1b2",
        "type": "ElasticNetworkInterface",
        "status": "ATTACHED",
        "details": [
            {"name": "subnetId", "value": "subnet-0abc"},
            {"name": "privateIPv4Address", "value": "10.0.1.23"},
        ],
    }
    expect(stubber, task([eni]))
    assert containers_running(aws, CLUSTER) is True


def test_a_running_task_without_one_runs_nothing(ecs: tuple[Aws, Stubber]) -> None:
    aws, stubber = ecs
    expect(stubber, task([]))
    assert containers_running(aws, CLUSTER) is False
