"""Wait until the API answers its load balancer's health check, before CloudFront sends it
traffic: a splice made earlier would route /api/* to a target group with no healthy task."""

from __future__ import annotations

from fargo.aws.facade import Aws
from fargo.errors import FargoError
from fargo.model.app import App
from fargo.outputs import DeployedOutputs
from fargo.progress import Reporter


def wait_for_api(
    aws: Aws,
    app: App,
    outputs: DeployedOutputs,
    reporter: Reporter,
    *,
    poll_seconds: float,
    timeout_seconds: float,
) -> None:
    cluster = outputs.network.cluster_name
    names = [
        name
        for service in app.services
        if service.route is not None and (name := outputs.services.service_name(service))
    ]
    if not cluster or not names:
        return
    described = aws.call("ecs", "describe_services", cluster=cluster, services=names)
    groups = [
        balancer["targetGroupArn"]
        for service in described.get("services", [])
        for balancer in service.get("loadBalancers", [])
    ]
    deadline = aws.clock() + timeout_seconds
    for group in groups:
        reporter.note(f"waiting for a healthy API task in {group.rsplit('/', 2)[-2]}")
        while not _healthy(aws, group):
            if aws.clock() > deadline:
                raise FargoError(
                    "the API has no healthy task, so CloudFront was left as it was",
                    hint="`fargo status` shows the services' running tasks, and their logs "
                    f"(CloudWatch Logs, /fargo/{app.name}/{app.env}/<service>) why they fail "
                    "the health check; deploy again once they pass",
                )
            aws.sleep(poll_seconds)


def _healthy(aws: Aws, target_group: str) -> bool:
    health = aws.call("elbv2", "describe_target_health", TargetGroupArn=target_group)
    return any(
        t.get("TargetHealth", {}).get("State") == "healthy"
        for t in health.get("TargetHealthDescriptions", [])
    )
