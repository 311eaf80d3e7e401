"""ECS services on the container emulator behave as on AWS: the rollout waits for healthy tasks
and targets, the load balancer checks its targets and forwards only to healthy ones, a container
stopped by hand stops its task and the scheduler replaces it, logs reach the awslogs stream, a
crash loop trips the deployment circuit breaker (and fails the CloudFormation resource), and a
one-off task reports its exit.

One service for the module, driven through the ECS and ELBv2 APIs; expected values are AWS's
documented ones (ELB's reason codes, ECS's stop codes and reasons).
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from fargo.local import engine as container_engine
from fargo.local.server import Emulator

PORT = 8080
# The base has python3 and a shell, no coreutils: builtins only.
SERVE = f"cd /tmp && echo ok > health && exec python3 -m http.server {PORT}"
PROBE = (
    'python3 -c "import urllib.request; '
    f"urllib.request.urlopen('http://127.0.0.1:{PORT}/health', timeout=2)\""
)
# Room for `podman exec` and a python3 start on a loaded machine: a slow check must not get
# the module's one task replaced under the tests that read it.
HEALTH_CHECK = {
    "command": ["CMD-SHELL", PROBE],
    "interval": 5,
    "timeout": 5,
    "retries": 3,
    "startPeriod": 10,
}
# AWS's minimum interval; two checks to healthy or unhealthy, each given 4 s to answer.
TARGET_GROUP = {
    "Protocol": "HTTP",
    "Port": PORT,
    "VpcId": "vpc-local",
    "TargetType": "ip",
    "HealthCheckIntervalSeconds": 5,
    "HealthCheckTimeoutSeconds": 4,
    "HealthyThresholdCount": 2,
    "UnhealthyThresholdCount": 2,
    "Matcher": {"HttpCode": "200-399"},
}
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-local"], "assignPublicIp": "DISABLED"}}
LOG_GROUP = "/fargo/lifecycle/web"

Clients = Callable[[str], Any]


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


@dataclass
class Web:
    clients: Clients
    cluster: str
    service: str
    target_group: str
    load_balancer: str
    # (rolloutState, target state) as polled while the first deployment ran.
    timeline: list[tuple[str, str | None]]


def task_definition(image: str, family: str, **container: Any) -> dict[str, Any]:
    """The shape fargo's templates register: Fargate, awsvpc, awslogs with a stream prefix."""
    return {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": family,
                "image": image,
                "essential": True,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": LOG_GROUP,
                        "awslogs-region": "us-east-1",
                        "awslogs-stream-prefix": family,
                    },
                },
                **container,
            }
        ],
    }


@pytest.fixture(scope="module")
def account() -> str:
    """The module's own emulator account (a 12-digit access key selects it)."""
    return "".join(random.choices("0123456789", k=12))  # noqa: S311 - an id, not a secret


@pytest.fixture(scope="module")
def clients(emulator: Emulator, account: str) -> Clients:
    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=emulator.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=account,
            aws_secret_access_key="test",
        )

    client("logs").create_log_group(logGroupName=LOG_GROUP)
    client("ecs").create_cluster(clusterName="lifecycle")
    return client


def target_state(clients: Clients, target_group: str) -> str | None:
    descriptions = clients("elbv2").describe_target_health(TargetGroupArn=target_group)[
        "TargetHealthDescriptions"
    ]
    return descriptions[0]["TargetHealth"]["State"] if descriptions else None


def primary(clients: Clients, cluster: str, service: str) -> dict[str, Any]:
    (svc,) = clients("ecs").describe_services(cluster=cluster, services=[service])["services"]
    return next(d for d in svc["deployments"] if d["status"] == "PRIMARY")


def stopped_reasons(clients: Clients, cluster: str, service: str) -> list[str]:
    ecs = clients("ecs")
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED")
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns["taskArns"])["tasks"]
    return [t.get("stoppedReason", "") for t in tasks]


@pytest.fixture(scope="module")
def web(clients: Clients, python_image: str) -> Web:
    elbv2, ecs = clients("elbv2"), clients("ecs")
    target_group = elbv2.create_target_group(Name="web", HealthCheckPath="/health", **TARGET_GROUP)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    load_balancer = elbv2.create_load_balancer(Name="lifecycle", Subnets=["subnet-local"])[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    elbv2.create_listener(
        LoadBalancerArn=load_balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    ecs.register_task_definition(
        **task_definition(
            python_image,
            "web",
            command=["sh", "-c", SERVE],
            portMappings=[{"containerPort": PORT, "protocol": "tcp"}],
            healthCheck=HEALTH_CHECK,
        )
    )
    ecs.create_service(
        cluster="lifecycle",
        serviceName="web",
        taskDefinition="web",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
        loadBalancers=[
            {"targetGroupArn": target_group, "containerName": "web", "containerPort": PORT}
        ],
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
    )
    timeline: list[tuple[str, str | None]] = []

    def completed() -> bool:
        rollout = primary(clients, "lifecycle", "web")["rolloutState"]
        timeline.append((rollout, target_state(clients, target_group)))
        assert rollout != "FAILED", stopped_reasons(clients, "lifecycle", "web")
        return rollout == "COMPLETED"

    wait_for("the first deployment to complete", completed)
    return Web(clients, "lifecycle", "web", target_group, "lifecycle", timeline)


def running_task(web: Web) -> dict[str, Any]:
    ecs = web.clients("ecs")
    arns = ecs.list_tasks(cluster=web.cluster, serviceName=web.service)["taskArns"]
    tasks = ecs.describe_tasks(cluster=web.cluster, tasks=arns)["tasks"] if arns else []
    (task,) = [t for t in tasks if t["lastStatus"] == "RUNNING"]
    return task


def task_ip(task: dict[str, Any]) -> str:
    (attachment,) = task["attachments"]
    return next(d["value"] for d in attachment["details"] if d["name"] == "privateIPv4Address")


def test_the_rollout_completes_only_when_the_task_and_its_target_are_healthy(web: Web) -> None:
    # ELB needs two passing checks 5 s apart: the deployment waited through "initial".
    assert ("IN_PROGRESS", "initial") in web.timeline
    assert web.timeline[-1] == ("COMPLETED", "healthy")
    task = running_task(web)
    assert task["healthStatus"] == "HEALTHY"
    assert [c["healthStatus"] for c in task["containers"]] == ["HEALTHY"]
    (svc,) = web.clients("ecs").describe_services(cluster=web.cluster, services=[web.service])[
        "services"
    ]
    assert (svc["runningCount"], svc["desiredCount"]) == (1, 1)


def test_target_health_says_what_elb_says(web: Web) -> None:
    elbv2 = web.clients("elbv2")
    ip = task_ip(running_task(web))
    missing = elbv2.create_target_group(Name="missing", HealthCheckPath="/missing", **TARGET_GROUP)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    refused = {"Id": "127.0.0.1", "Port": 9}  # nothing listens there
    elbv2.register_targets(TargetGroupArn=missing, Targets=[{"Id": ip, "Port": PORT}, refused])

    def health() -> dict[tuple[str, int], dict[str, Any]]:
        described = elbv2.describe_target_health(TargetGroupArn=missing)
        return {
            (d["Target"]["Id"], d["Target"]["Port"]): d["TargetHealth"]
            for d in described["TargetHealthDescriptions"]
        }

    first = health()
    assert {h["State"] for h in first.values()} == {"initial"}
    assert {h["Reason"] for h in first.values()} <= {
        "Elb.RegistrationInProgress",
        "Elb.InitialHealthChecking",
    }
    settled = wait_for(
        "both targets to fail their checks",
        lambda: (h := health()) and all(t["State"] == "unhealthy" for t in h.values()) and h,
        timeout=60,
    )
    assert settled[(ip, PORT)] == {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [404]",
    }
    assert settled[("127.0.0.1", 9)]["Reason"] == "Target.FailedHealthChecks"

    (unknown,) = elbv2.describe_target_health(
        TargetGroupArn=missing, Targets=[{"Id": "10.9.9.9", "Port": PORT}]
    )["TargetHealthDescriptions"]
    assert unknown["TargetHealth"]["Reason"] == "Target.NotRegistered"

    elbv2.deregister_targets(TargetGroupArn=missing, Targets=[refused])
    assert health()[("127.0.0.1", 9)] == {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    }


def test_the_load_balancer_forwards_only_to_healthy_targets(web: Web, emulator: Emulator) -> None:
    elbv2 = web.clients("elbv2")
    refused = {"Id": "127.0.0.1", "Port": 9}
    elbv2.register_targets(TargetGroupArn=web.target_group, Targets=[refused])
    try:
        url = f"{emulator.endpoint_url}/_alb/{web.load_balancer}/health"
        with httpx.Client(timeout=10) as http:
            answers = [http.get(url) for _ in range(12)]
    finally:
        elbv2.deregister_targets(TargetGroupArn=web.target_group, Targets=[refused])
    assert [(a.status_code, a.text) for a in answers] == [(200, "ok\n")] * 12


def test_the_containers_output_reaches_the_awslogs_stream(web: Web) -> None:
    task_id = running_task(web)["taskArn"].rsplit("/", 1)[-1]
    logs = web.clients("logs")
    stream = f"web/web/{task_id}"  # awslogs-stream-prefix/container name/task id

    def health_checks_logged() -> list[str]:
        events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream)["events"]
        return [e["message"] for e in events if "GET /health" in e["message"]]

    assert wait_for("the server's access log lines", health_checks_logged, timeout=30)
    filtered = logs.filter_log_events(logGroupName=LOG_GROUP, filterPattern='"GET /health"')
    assert stream in {e["logStreamName"] for e in filtered["events"]}


def podman(state_dir: Path, *argv: str) -> str:
    env = container_engine.podman_env(state_dir) | {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    done = subprocess.run(["podman", *argv], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_container_stopped_by_hand_stops_its_task_and_the_service_replaces_it(
    web: Web, runtime_state: Path
) -> None:
    ecs = web.clients("ecs")
    task = running_task(web)
    podman(runtime_state, "stop", "--time", "2", task["containers"][0]["runtimeId"])

    def stopped() -> dict[str, Any] | None:
        (found,) = ecs.describe_tasks(cluster=web.cluster, tasks=[task["taskArn"]])["tasks"]
        return found if found["lastStatus"] == "STOPPED" else None

    gone = wait_for("the task to stop", stopped, timeout=60)
    assert gone["stopCode"] == "EssentialContainerExited"
    assert gone["stoppedReason"] == "Essential container in task exited"
    # python3 runs as PID 1, which SIGTERM does not end: `podman stop` kills it, 128 + 9.
    assert [c["exitCode"] for c in gone["containers"]] == [137]

    counts: list[int] = []

    def replaced() -> dict[str, Any] | None:
        (svc,) = ecs.describe_services(cluster=web.cluster, services=[web.service])["services"]
        counts.append(svc["runningCount"])
        fresh = running_task(web) if svc["runningCount"] == 1 else None
        return fresh if fresh and fresh["taskArn"] != task["taskArn"] else None

    replacement = wait_for("the scheduler's replacement task", replaced)
    assert replacement["taskDefinitionArn"] == task["taskDefinitionArn"]
    # Until the replacement runs, the service counts what runs: none.
    assert counts[0] == 0


def run_to_its_end(web: Web, python_image: str, family: str, command: list[str]) -> dict[str, Any]:
    """A one-off task of a new task definition `family`, as DescribeTasks says it stopped."""
    ecs = web.clients("ecs")
    ecs.register_task_definition(**task_definition(python_image, family, command=command))
    (task,) = ecs.run_task(
        cluster=web.cluster,
        taskDefinition=family,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
    )["tasks"]

    def stopped() -> dict[str, Any] | None:
        (found,) = ecs.describe_tasks(cluster=web.cluster, tasks=[task["taskArn"]])["tasks"]
        return found if found["lastStatus"] == "STOPPED" else None

    return dict(wait_for(f"the {family} task to stop", stopped, timeout=60))


def log_lines(web: Web, family: str, task: dict[str, Any]) -> list[str]:
    """What the task's container wrote, as its awslogs stream holds it."""
    stream = f"{family}/{family}/{task['taskArn'].rsplit('/', 1)[-1]}"
    events = web.clients("logs").get_log_events(
        logGroupName=LOG_GROUP, logStreamName=stream, startFromHead=True
    )
    return [e["message"] for e in events["events"]]


def test_a_one_off_task_reports_its_exit(web: Web, python_image: str) -> None:
    done = run_to_its_end(web, python_image, "once", ["sh", "-c", "echo migrated; exit 3"])
    assert [c["exitCode"] for c in done["containers"]] == [3]
    assert done["stopCode"] == "EssentialContainerExited"
    assert done["stoppedReason"] == "Essential container in task exited"
    assert log_lines(web, "once", done) == ["migrated"]


def test_a_stopped_task_has_all_its_output_in_its_log_stream(web: Web, python_image: str) -> None:
    """As with the awslogs driver on AWS, whoever sees the task STOPPED finds every line it
    wrote in its stream, the last ones written just before it exited included."""
    script = "import sys; sys.stdout.write(''.join(f'line {i}\\n' for i in range(5000)))"
    done = run_to_its_end(web, python_image, "chatty", ["python3", "-c", script])
    assert [c["exitCode"] for c in done["containers"]] == [0]
    messages = log_lines(web, "chatty", done)
    assert (len(messages), messages[-1]) == (5000, "line 4999")


def test_a_crash_loop_trips_the_circuit_breaker_and_fails_the_stack(
    web: Web, python_image: str
) -> None:
    """CloudFormation waits for the service to be stable, as on AWS; a deployment whose tasks
    keep crashing trips the circuit breaker and the resource fails with ECS's message."""
    cloudformation = web.clients("cloudformation")
    definition = task_definition(python_image, "crash", command=["sh", "-c", "exit 1"])
    (container,) = definition["containerDefinitions"]
    template = {
        "Resources": {
            "Task": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "crash",
                    "NetworkMode": "awsvpc",
                    "RequiresCompatibilities": ["FARGATE"],
                    "Cpu": "256",
                    "Memory": "512",
                    "ContainerDefinitions": [
                        {
                            "Name": "crash",
                            "Image": python_image,
                            "Essential": True,
                            "Command": container["command"],
                        }
                    ],
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "Cluster": web.cluster,
                    "ServiceName": "crash",
                    "TaskDefinition": {"Ref": "Task"},
                    "DesiredCount": 1,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": ["subnet-local"]}},
                    "DeploymentConfiguration": {
                        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}
                    },
                },
            },
        }
    }
    cloudformation.create_stack(
        StackName="crash", TemplateBody=json.dumps(template), OnFailure="DO_NOTHING"
    )
    terminal = wait_for(
        "the stack to finish",
        lambda: (
            (s := cloudformation.describe_stacks(StackName="crash")["Stacks"][0])[
                "StackStatus"
            ].endswith(("_COMPLETE", "_FAILED"))
            and s
        ),
        timeout=180,
    )
    assert terminal["StackStatus"] == "CREATE_FAILED"
    events = cloudformation.describe_stack_events(StackName="crash")["StackEvents"]
    (failed,) = [
        e
        for e in events
        if e["LogicalResourceId"] == "Service" and e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert "ECS Deployment Circuit Breaker was triggered" in failed["ResourceStatusReason"]
    stopped = web.clients("ecs").list_tasks(
        cluster=web.cluster, serviceName="crash", desiredStatus="STOPPED"
    )["taskArns"]
    assert len(stopped) == 3  # the breaker's threshold for one task: at least 3 failures


def test_a_task_failing_its_container_health_check_is_replaced(web: Web, python_image: str) -> None:
    ecs = web.clients("ecs")
    failing = {"command": ["CMD-SHELL", "exit 1"], "interval": 5, "timeout": 2, "retries": 2}
    ecs.register_task_definition(
        **task_definition(
            python_image,
            "sick",
            command=["python3", "-c", "import time; time.sleep(600)"],
            healthCheck=failing,
        )
    )
    ecs.create_service(
        cluster=web.cluster,
        serviceName="sick",
        taskDefinition="sick",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": False, "rollback": False}},
    )
    try:

        def first_stopped() -> dict[str, Any] | None:
            arns = ecs.list_tasks(cluster=web.cluster, serviceName="sick", desiredStatus="STOPPED")
            if not arns["taskArns"]:
                return None
            return ecs.describe_tasks(cluster=web.cluster, tasks=arns["taskArns"][:1])["tasks"][0]

        stopped = wait_for("the unhealthy task to be stopped", first_stopped, timeout=90)
        assert stopped["stoppedReason"] == "Task failed container health checks"
        assert stopped["stopCode"] == "ServiceSchedulerInitiated"
        assert stopped["healthStatus"] == "UNHEALTHY"
        assert [c["healthStatus"] for c in stopped["containers"]] == ["UNHEALTHY"]
        replacement = wait_for(
            "a replacement task",
            lambda: ecs.list_tasks(cluster=web.cluster, serviceName="sick")["taskArns"],
        )
        assert stopped["taskArn"] not in replacement
    finally:
        ecs.delete_service(cluster=web.cluster, service="sick", force=True)


def test_a_task_whose_log_group_does_not_exist_fails_to_start(web: Web, python_image: str) -> None:
    ecs = web.clients("ecs")
    definition = task_definition(python_image, "unlogged", command=["sh", "-c", "exit 0"])
    definition["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-group"] = (
        "/fargo/lifecycle/missing"
    )
    ecs.register_task_definition(**definition)
    (task,) = ecs.run_task(
        cluster=web.cluster,
        taskDefinition="unlogged",
        launchType="FARGATE",
        networkConfiguration=NETWORK,
    )["tasks"]

    def stopped() -> dict[str, Any] | None:
        (found,) = ecs.describe_tasks(cluster=web.cluster, tasks=[task["taskArn"]])["tasks"]
        return found if found["lastStatus"] == "STOPPED" else None

    failed = wait_for("the task to fail", stopped, timeout=60)
    assert failed["stopCode"] == "TaskFailedToStart"
    assert failed["stoppedReason"].startswith("ResourceInitializationError: ")
    assert "The specified log group does not exist" in failed["stoppedReason"]
