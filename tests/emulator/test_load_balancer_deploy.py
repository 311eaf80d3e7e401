"""A network without a load balancer, and the update that adds one with the first HTTP
service, on the embedded emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.emulator.helpers import edit, run_fargo, stack_outputs

MANIFEST = """\
app: quiet
services:
  worker:
    image: nginx:1.27
    command: [sleep, infinity]
alerts: { email: ops@example.com }
"""

API = """\
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
alerts:"""


def resources(aws: Any, stack: str) -> dict[str, str]:
    listed = aws("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed}


def test_a_first_http_service_adds_the_load_balancer_in_place(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(MANIFEST)
    first = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert first.returncode == 0, first.stderr
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []
    before = resources(aws, "quiet-default-network")
    assert "LoadBalancer" not in before
    assert "LoadBalancerDnsName" not in stack_outputs(aws, "quiet-default-network")

    edit(manifest, "alerts:", API)
    second = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert second.returncode == 0, second.stderr
    after = resources(aws, "quiet-default-network")
    # Updated in place: the task group (which data stores admit by id) is the same group.
    assert after["TaskSecurityGroup"] == before["TaskSecurityGroup"]
    assert {k: after[k] for k in before} == before
    outputs = stack_outputs(aws, "quiet-default-network")
    (balancer,) = aws("elbv2").describe_load_balancers(
        LoadBalancerArns=[outputs["LoadBalancerArn"]]
    )["LoadBalancers"]
    assert balancer["DNSName"] == outputs["LoadBalancerDnsName"]
    (group,) = aws("ec2").describe_security_groups(GroupIds=[after["TaskSecurityGroup"]])[
        "SecurityGroups"
    ]
    sources = [p["GroupId"] for rule in group["IpPermissions"] for p in rule["UserIdGroupPairs"]]
    assert sources == [after["LoadBalancerSecurityGroup"]]

    # The load balancer's own 5xx alarm, named after the balancer the stack made.
    alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix="quiet-default-services")
    (elb,) = [a for a in alarms["MetricAlarms"] if a.get("MetricName") == "HTTPCode_ELB_5XX_Count"]
    assert elb["Dimensions"] == [{"Name": "LoadBalancer", "Value": outputs["LoadBalancerFullName"]}]
    assert elb["Threshold"] == 10


def test_dropping_the_last_http_service_drops_the_load_balancer(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(MANIFEST.replace("alerts:", API))
    first = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert first.returncode == 0, first.stderr
    tasks_group = resources(aws, "quiet-default-network")["TaskSecurityGroup"]

    manifest.write_text(MANIFEST)
    second = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert second.returncode == 0, second.stderr
    after = resources(aws, "quiet-default-network")
    assert "LoadBalancer" not in after
    assert after["TaskSecurityGroup"] == tasks_group
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []
