"""Deploy, no-op, update, failure and recovery on the embedded emulator, through the CLI and
the library, checked through AWS's describe APIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fargo.aws.facade import CallCounter
from tests.emulator.helpers import (
    LOCK_WRITES,
    deployer,
    edit,
    last_updated,
    run_fargo,
    stack_outputs,
)

STACKS = ["fullstack-default-network", "fullstack-default-data", "fullstack-default-services"]


def test_cli_deploy_creates_what_the_describe_apis_show(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    done = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint, "--yes")
    assert done.returncode == 0, done.stderr
    assert "fullstack-default-services: created" in done.stdout

    outputs = {k: v for name in STACKS for k, v in stack_outputs(aws, name).items()}
    ecs = aws("ecs")
    (service,) = ecs.describe_services(cluster=outputs["ClusterName"], services=["api"])["services"]
    assert service["capacityProviderStrategy"][0]["capacityProvider"] == "FARGATE"
    assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    (balancer,) = service["loadBalancers"]
    assert balancer["containerPort"] == 8000
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task["networkMode"] == "awsvpc"
    assert task["requiresCompatibilities"] == ["FARGATE"]

    elbv2 = aws("elbv2")
    (group,) = elbv2.describe_target_groups(TargetGroupArns=[balancer["targetGroupArn"]])[
        "TargetGroups"
    ]
    assert group["TargetType"] == "ip"
    (alb,) = elbv2.describe_load_balancers(LoadBalancerArns=[outputs["LoadBalancerArn"]])[
        "LoadBalancers"
    ]
    assert alb["Scheme"] == "internet-facing"

    (database,) = aws("rds").describe_db_instances()["DBInstances"]
    assert database["Engine"] == "postgres"
    assert database["Endpoint"]["Address"] == outputs["DatabaseHost"]

    secret = aws("secretsmanager").describe_secret(SecretId=outputs["DatabaseSecretArn"])
    assert secret["ARN"] == outputs["DatabaseSecretArn"]
    value = json.loads(
        aws("secretsmanager").get_secret_value(SecretId=secret["ARN"])["SecretString"]
    )
    assert value["username"] == "app"
    assert len(value["password"]) == 32
    assert value["password"] not in done.stdout + done.stderr  # secrets are never printed


def test_second_deploy_changes_nothing_and_writes_nothing(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    before = last_updated(aws, STACKS)

    counter = CallCounter()
    _, result = deployer(fullstack, emulator_endpoint, counter=counter).deploy()

    assert not result.changed
    assert counter.writes == LOCK_WRITES
    assert counter.total > 0  # it did look
    assert last_updated(aws, STACKS) == before

    again = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert again.returncode == 0, again.stderr
    assert "fullstack/default: no changes" in again.stdout


def test_plan_of_an_unchanged_app_reads_each_template_once_and_writes_nothing(
    fullstack: Path, emulator_endpoint: str
) -> None:
    """The comparison and the cost's figure before the change read the same templates."""
    deployer(fullstack, emulator_endpoint).deploy()
    counter = CallCounter()
    planned = deployer(fullstack, emulator_endpoint, counter=counter).plan()
    assert planned.unchanged
    assert planned.cost is not None
    assert planned.cost.before.monthly_total == pytest.approx(planned.cost.after.monthly_total)
    assert counter.calls[("cloudformation", "GetTemplate")] == len(STACKS)
    assert counter.writes == []


def test_changing_a_service_updates_only_the_services_stack(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    before = last_updated(aws, STACKS)
    edit(fullstack, "LOG_LEVEL: info", "LOG_LEVEL: debug")

    plan = deployer(fullstack, emulator_endpoint).plan()
    assert [s.action for s in plan.stacks] == ["unchanged", "unchanged", "update"]
    changed = {c.logical_id for c in plan.stacks[2].changes}
    assert "ApiTaskDefinition" in changed

    _, result = deployer(fullstack, emulator_endpoint).deploy()
    assert [s.action for s in result.stacks] == ["unchanged", "unchanged", "updated"]
    after = last_updated(aws, STACKS)
    assert after[STACKS[0]] == before[STACKS[0]]
    assert after[STACKS[1]] == before[STACKS[1]]
    assert after[STACKS[2]] != before[STACKS[2]]
    task = aws("ecs").describe_task_definition(taskDefinition="fullstack-default-api")
    env = {
        e["name"]: e["value"]
        for e in task["taskDefinition"]["containerDefinitions"][0]["environment"]
    }
    assert env["LOG_LEVEL"] == "debug"


def test_failed_update_names_the_cause_rolls_back_and_a_rerun_converges(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    deployer(fullstack, emulator_endpoint).deploy()
    # Someone created a `mailer` service by hand; fargo's own `mailer` then collides.
    cluster = aws("cloudformation").describe_stacks(StackName=STACKS[0])["Stacks"][0]
    cluster_name = next(
        o["OutputValue"] for o in cluster["Outputs"] if o["OutputKey"] == "ClusterName"
    )
    ecs = aws("ecs")
    ecs.create_service(
        cluster=cluster_name,
        serviceName="mailer",
        taskDefinition="fullstack-default-api:1",
        desiredCount=0,
    )
    edit(
        fullstack,
        "\ndatabase:\n",
        "\n  mailer:\n    image: { from: api }\n    command: [python, -m, app.mailer]\n"
        "\ndatabase:\n",
    )
    failed = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "MailerService (AWS::ECS::Service)" in failed.stderr
    assert "not idempotent" in failed.stderr
    assert "Traceback" not in failed.stderr
    status = last_updated(aws, STACKS)[STACKS[2]][1]
    assert status == "UPDATE_ROLLBACK_COMPLETE"

    ecs.delete_service(cluster=cluster_name, service="mailer", force=True)
    rerun = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert rerun.returncode == 0, rerun.stderr
    assert last_updated(aws, STACKS)[STACKS[2]][1] == "UPDATE_COMPLETE"
    services = ecs.list_services(cluster=cluster_name)["serviceArns"]
    assert sorted(arn.rsplit("/", 1)[-1] for arn in services) == ["api", "mailer", "worker"]


def test_interrupted_first_deploy_converges(
    fullstack: Path, emulator_endpoint: str, aws: Any
) -> None:
    """Ctrl-C after a change set was made leaves a stack in REVIEW_IN_PROGRESS; a stack whose
    first create failed is ROLLBACK_COMPLETE. The next deploy handles both."""
    network = deployer(fullstack, emulator_endpoint).templates[0]
    cfn = aws("cloudformation")
    cfn.create_change_set(
        StackName=network.name,
        ChangeSetName="interrupted",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(network.body),
    )
    broken = {
        "Resources": {
            "ApiListenerRule": {
                "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
                "Properties": {
                    "ListenerArn": "arn:aws:elasticloadbalancing:us-east-1:000000000000:"
                    "listener/app/gone/0123456789abcdef/0123456789abcdef",
                    "Priority": 1,
                    "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}],
                    "Actions": [
                        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
                    ],
                },
            }
        }
    }
    cfn.create_stack(StackName=STACKS[2], TemplateBody=json.dumps(broken))
    statuses = {name: status for name, (_, status) in last_updated(aws, STACKS[::2]).items()}
    assert statuses == {STACKS[0]: "REVIEW_IN_PROGRESS", STACKS[2]: "ROLLBACK_COMPLETE"}

    done = run_fargo("deploy", "-f", str(fullstack), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr
    statuses = {name: status for name, (_, status) in last_updated(aws, STACKS).items()}
    assert statuses[STACKS[0]] == "CREATE_COMPLETE"
    assert statuses[STACKS[2]] == "CREATE_COMPLETE"
