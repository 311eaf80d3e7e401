"""The load balancer exists only while a service takes HTTP traffic, and its own 5xx get an
alert of their own that never rolls a deploy back."""

from __future__ import annotations

import json
from typing import Any

from fargo.manifest.load import parse_manifest
from fargo.model import StackKind, build_app
from tests.unit.synth_helpers import resources_of, stacks_from_text

MANIFEST = """\
app: shop
services:
  worker:
    image: nginx:1.27
    command: [sleep, infinity]
alerts: { email: ops@example.com }
environments:
  web:
    services:
      api: { image: "nginx:1.27", port: 8000, http: { path: /api/*, healthcheck: /api/health } }
  quiet: { alerts: null }
  domain: { domain: { name: example.com, dns: powerdns } }
"""

BALANCER_OUTPUTS = {
    "LoadBalancerArn",
    "LoadBalancerDnsName",
    "LoadBalancerFullName",
    "LoadBalancerHostedZoneId",
    "LoadBalancerSecurityGroupId",
    "HttpListenerArn",
}


def network(env: str | None) -> dict[str, Any]:
    return stacks_from_text(MANIFEST, env)[StackKind.NETWORK].body  # type: ignore[no-any-return]


def test_without_http_there_is_no_load_balancer_listener_or_its_group() -> None:
    body = network(None)
    types = {r["Type"] for r in body["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::ElasticLoadBalancingV2::")}
    assert "LoadBalancerSecurityGroup" not in body["Resources"]
    assert not BALANCER_OUTPUTS & set(body["Outputs"])
    tasks = body["Resources"]["TaskSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in tasks  # nothing may connect to the tasks
    services = stacks_from_text(MANIFEST)[StackKind.SERVICES]
    assert not BALANCER_OUTPUTS & set(services.parameters)


def test_adding_an_http_service_adds_the_balancer_and_replaces_nothing() -> None:
    # The same environment's name on both sides, as when one manifest gains a service.
    before = network(None)["Resources"]
    after = json.loads(json.dumps(network("web")["Resources"]).replace('"web"', '"default"'))
    after = json.loads(json.dumps(after).replace("shop-web ", "shop-default "))
    assert {"LoadBalancer", "HttpListener", "LoadBalancerSecurityGroup"} <= set(after)
    assert set(network("web")["Outputs"]) >= BALANCER_OUTPUTS
    # Everything the network had stays as it was, but the task group's inbound rules, an
    # in-place update: the group keeps its description (a new one would replace it).
    for name, resource in before.items():
        if name != "TaskSecurityGroup":
            assert after[name] == resource, name
    tasks_before = before["TaskSecurityGroup"]["Properties"]
    tasks_after = after["TaskSecurityGroup"]["Properties"]
    assert tasks_after["GroupDescription"] == tasks_before["GroupDescription"]
    (rule,) = tasks_after["SecurityGroupIngress"]
    assert rule["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}


def test_a_domain_without_http_needs_no_regional_certificate() -> None:
    loaded = parse_manifest(MANIFEST, "fargo.yml", "domain", {})
    app = build_app(loaded)
    assert app.api_hosts == ()
    stacks = stacks_from_text(MANIFEST, "domain")
    assert "CertificateArn" not in stacks[StackKind.NETWORK].parameters
    # With no HTTPS listener to show it, an output tells a later deploy a domain was used.
    assert stacks[StackKind.NETWORK].body["Outputs"]["DomainZone"] == {"Value": "example.com"}


def test_the_load_balancers_own_5xx_alert_and_never_roll_back() -> None:
    services = stacks_from_text(MANIFEST, "web")[StackKind.SERVICES]
    alarm = services.body["Resources"]["LoadBalancerErrorsAlarm"]["Properties"]
    assert alarm["Namespace"] == "AWS/ApplicationELB"
    assert alarm["MetricName"] == "HTTPCode_ELB_5XX_Count"
    # The metric has no per-target-group dimension: the load balancer is its only one.
    assert alarm["Dimensions"] == [
        {"Name": "LoadBalancer", "Value": {"Ref": "LoadBalancerFullName"}}
    ]
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 60)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        10,
        "GreaterThanOrEqualToThreshold",
    )
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlertTopic"}]
    assert services.parameters["LoadBalancerFullName"].key == "LoadBalancerFullName"
    api = resources_of(services, "AWS::ECS::Service")["ApiService"]
    watched = api["Properties"]["DeploymentConfiguration"]["Alarms"]["AlarmNames"]
    assert watched == [{"Ref": "ApiErrorRateAlarm"}]


def test_the_load_balancer_alert_needs_alerts_and_a_load_balancer() -> None:
    for env in (None, "quiet"):
        resources = stacks_from_text(MANIFEST, env)[StackKind.SERVICES].body["Resources"]
        assert "LoadBalancerErrorsAlarm" not in resources
