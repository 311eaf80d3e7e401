"""An app too large for CloudFormation's inline template limit deploys: its services
template goes to CloudFormation from the bootstrap bucket, through TemplateURL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fargo.aws.facade import CallCounter
from fargo.model.app import StackKind
from tests.emulator.helpers import BOOTSTRAP, LOCK_WRITES, deployer, edit, stack_outputs

# "Template body size in a request" (CloudFormation quotas): a larger body cannot be sent
# inline, and a request that tries is refused.
INLINE_LIMIT = 51_200
HTTP_SERVICES = [f"web{i:02d}" for i in range(1, 13)]
WORKERS = ["worker1", "worker2", "worker3"]


def _manifest(directory: Path) -> Path:
    lines = ["app: wide", "region: us-east-1", "profile: lean", "services:"]
    for name in HTTP_SERVICES:
        lines += [
            f"  {name}:",
            "    image: public.ecr.aws/docker/library/nginx:1.27",
            "    port: 8080",
            f"    http: {{ path: /{name}/*, healthcheck: /{name}/health }}",
            "    count: { min: 1, max: 4, cpu: 60, requests: 600 }",
            "    env: { LOG_LEVEL: info }",
        ]
    for index, name in enumerate(WORKERS, start=1):
        lines += [
            f"  {name}:",
            "    image: public.ecr.aws/docker/library/python:3.12-slim",
            "    command: [python, -m, worker]",
            f"    queue: jobs{index}",
            "    count: { min: 0, max: 4, backlog: 10 }",
        ]
    lines += ["queues:", *(f"  jobs{i}: {{ visibility: 60 }}" for i in (1, 2, 3))]
    path = directory / "fargo.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _sent_bytes(body: dict[str, Any]) -> bytes:
    """The body as it goes over the wire: compact JSON with sorted keys."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _stored_templates(aws: Any, stack: str) -> dict[str, bytes]:
    """The objects under templates/<stack>/ in the bootstrap stack's artifact bucket."""
    bucket = stack_outputs(aws, BOOTSTRAP)["ArtifactBucket"]
    s3 = aws("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"templates/{stack}/").get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_twelve_http_services_and_three_workers_deploy(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = _manifest(tmp_path)
    first = deployer(manifest, emulator_endpoint)
    (services,) = [t for t in first.templates if t.kind is StackKind.SERVICES]
    sent = _sent_bytes(services.body)
    assert len(sent) > INLINE_LIMIT  # only TemplateURL can carry it

    counter = CallCounter()
    _, result = deployer(manifest, emulator_endpoint, counter=counter).deploy()

    assert [(s.name, s.action) for s in result.stacks][-1] == (services.name, "created")
    (stack,) = aws("cloudformation").describe_stacks(StackName=services.name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    # CloudFormation read the template from the bucket, under the key of its content.
    key = f"templates/{services.name}/{hashlib.sha256(sent).hexdigest()}.json"
    assert _stored_templates(aws, services.name) == {key: sent}
    assert ("s3", "PutObject") in counter.writes
    deployed = aws("cloudformation").get_template(StackName=services.name)["TemplateBody"]
    assert deployed == services.body
    # The small templates went inline: nothing stored for them.
    for template in first.templates:
        if template.kind is not StackKind.SERVICES:
            assert len(_sent_bytes(template.body)) <= INLINE_LIMIT
            assert _stored_templates(aws, template.name) == {}

    cluster = stack_outputs(aws, "wide-default-network")["ClusterName"]
    arns = aws("ecs").list_services(cluster=cluster, maxResults=100)["serviceArns"]
    assert sorted(a.rsplit("/", 1)[-1] for a in arns) == sorted(HTTP_SERVICES + WORKERS)
    targets = aws("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    scaled = {t["ResourceId"].rsplit("/", 1)[-1] for t in targets["ScalableTargets"]}
    assert scaled == set(HTTP_SERVICES + WORKERS)

    # A deploy that changes nothing sends no template at all: its lock is all it writes.
    again = CallCounter()
    _, unchanged = deployer(manifest, emulator_endpoint, counter=again).deploy()
    assert not unchanged.changed
    assert again.writes == LOCK_WRITES


def test_an_update_over_the_inline_limit_goes_through_the_bucket_too(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = _manifest(tmp_path)
    deployer(manifest, emulator_endpoint).deploy()
    edit(manifest, "    env: { LOG_LEVEL: info }", "    env: { LOG_LEVEL: debug }")  # web01's

    updated = deployer(manifest, emulator_endpoint)
    (services,) = [t for t in updated.templates if t.kind is StackKind.SERVICES]
    plan = updated.plan()  # a change set against the deployed stack: made and removed

    assert [s.action for s in plan.stacks if s.name == services.name] == ["update"]
    _, result = updated.deploy()

    assert {s.name: s.action for s in result.stacks}[services.name] == "updated"
    sent = _sent_bytes(services.body)
    stored = _stored_templates(aws, services.name)
    assert len(stored) == 2  # the first template, and the one with LOG_LEVEL=debug
    assert stored[f"templates/{services.name}/{hashlib.sha256(sent).hexdigest()}.json"] == sent
    cluster = stack_outputs(aws, "wide-default-network")["ClusterName"]
    ecs = aws("ecs")
    (service,) = ecs.describe_services(cluster=cluster, services=["web01"])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    (container,) = task["taskDefinition"]["containerDefinitions"]
    assert {"name": "LOG_LEVEL", "value": "debug"} in container["environment"]
