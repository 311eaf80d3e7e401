"""`fargo deploy` of an HTTP service on the container emulator returns only once ECS's rollout
is complete, as on AWS: CloudFormation's AWS::ECS::Service waits for the service to be stable,
which takes the task's container health check and its target's health checks (fargo's target
group: two passing checks 10 s apart). `fargo status` then reports ECS's counts and the
task health the containers report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fargo.local.server import Emulator
from tests.emulator.helpers import run_fargo

# The offline base has python3 and no coreutils: the app makes its files itself.
SERVER = (
    "import functools, http.server, os; "
    "os.makedirs('/tmp/www/api', exist_ok=True); "
    "open('/tmp/www/api/health', 'w').write('ok'); "
    "handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory='/tmp/www'); "
    "http.server.ThreadingHTTPServer(('', 8000), handler).serve_forever()"
)

MANIFEST = """\
app: rollout
services:
  api:
    image: {image}
    command: [python3, -c, "{server}"]
    port: 8000
    http: {{ path: /api/*, healthcheck: /api/health }}
alerts: {{ email: ops@example.com }}
"""


def test_deploy_waits_for_healthy_tasks_and_status_reports_them(
    tmp_path: Path, emulator: Emulator, python_image: str, aws: Any
) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(MANIFEST.format(image=python_image, server=SERVER))
    endpoint = ("--endpoint-url", emulator.endpoint_url)
    deployed = run_fargo("deploy", "-f", str(manifest), *endpoint)
    assert deployed.returncode == 0, deployed.stderr

    # No polling: when deploy returns, the rollout is over and the target already healthy.
    ecs, elbv2 = aws("ecs"), aws("elbv2")
    (cluster,) = ecs.list_clusters()["clusterArns"]
    (svc,) = ecs.describe_services(cluster=cluster, services=["api"])["services"]
    (deployment,) = svc["deployments"]
    assert deployment["rolloutState"] == "COMPLETED"
    assert (svc["runningCount"], svc["desiredCount"]) == (1, 1)
    ((target_group,),) = [[lb["targetGroupArn"] for lb in svc["loadBalancers"]]]
    (target,) = elbv2.describe_target_health(TargetGroupArn=target_group)[
        "TargetHealthDescriptions"
    ]
    assert target["TargetHealth"]["State"] == "healthy"
    (task_arn,) = ecs.list_tasks(cluster=cluster, serviceName="api")["taskArns"]
    (task,) = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"]
    assert task["healthStatus"] == "HEALTHY"

    # The app's stderr (the server's access log: the health checks) is in the log group the
    # services stack made, in the stream awslogs names `<prefix>/<container>/<task id>`.
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])
    (container,) = definition["taskDefinition"]["containerDefinitions"]
    options = container["logConfiguration"]["options"]
    stream = f"{options['awslogs-stream-prefix']}/api/{task_arn.rsplit('/', 1)[-1]}"
    events = aws("logs").get_log_events(logGroupName=options["awslogs-group"], logStreamName=stream)
    assert any("GET /api/health" in e["message"] for e in events["events"])

    status = run_fargo("status", "-f", str(manifest), "--json", *endpoint)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    (api,) = report["services"]
    assert (api["running"], api["desired"], api["healthy"]) == (1, 1, 1)
    assert report["containers_running"] is True
    assert report["notes"] == []
    human = run_fargo("status", "-f", str(manifest), *endpoint)
    assert "api: 1/1 running, 1 healthy" in human.stdout

    # A release whose container crashes: the circuit breaker trips (fargo's templates enable
    # it with rollback), the stack update fails and rolls back, the running task stays.
    manifest.write_text(manifest.read_text().replace(f'"{SERVER}"', '"raise SystemExit(1)"'))
    crashed = run_fargo("deploy", "-f", str(manifest), *endpoint)
    assert crashed.returncode == 1, crashed.stdout
    assert "ECS Deployment Circuit Breaker was triggered" in crashed.stdout + crashed.stderr
    # ECS's own events of the service, streamed beside the stack's while it changed.
    streamed = [line for line in crashed.stderr.splitlines() if "ecs |" in line or "ECS" in line]
    assert any(
        line.endswith(
            "ecs | (service api) deployment failed: deployment circuit breaker was triggered."
        )
        for line in streamed
    ), streamed
    (after,) = ecs.describe_services(cluster=cluster, services=["api"])["services"]
    assert after["taskDefinition"] == svc["taskDefinition"]
    assert ecs.list_tasks(cluster=cluster, serviceName="api")["taskArns"] == [task_arn]
