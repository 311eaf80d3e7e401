"""A domain and a CDN added to a deployed app, on the emulator: the HTTPS listener with the
certificate fargo had issued, HTTP redirecting to it, the rules moved to it and requiring
CloudFront's secret header, checked through the ELBv2 describe APIs and with requests to
the emulator's load balancer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fargo.aws.facade import CallCounter
from fargo.deployer import Deployer
from fargo.edge.certificates import delete_certificate, ensure_certificate
from fargo.execute import DeployResult, Destroyer, Executor
from fargo.model.app import ORIGIN_VERIFY_HEADER, StackKind
from fargo.plan.planner import Built
from fargo.steps.handlers import Stacks
from fargo.steps.model import ApplyStack
from fargo.steps.planner import apply_step
from fargo.steps.runner import Registry, RunContext, StepRunner
from tests.conftest import Notes
from tests.emulator.helpers import deployer, through_load_balancer
from tests.unit.memory_dns import MemoryDns

MANIFEST = """\
app: web
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
"""
EDGE = """\
domain: { name: example.com, dns: powerdns }
cdn: { existing: E2ABCDEF123456 }
"""
STACKS = ("web-default-network", "web-default-services")
TAGS = {"fargo:app": "web", "fargo:env": "default", "fargo:scope": "regional"}


def deploy_stacks(d: Deployer, certificate: str | None = None) -> DeployResult:
    """What deploy does to the stacks, given the certificate's ARN: the guard on the plan,
    then each stack's step. The edge steps around them (DNS records, the CloudFront splice)
    have tests of their own and are left out."""
    certificates = {"regional": certificate} if certificate is not None else {}
    plan = d.planner.plan(d.templates, d.retired, Built(certificates=certificates))
    assert not plan.removals  # no stack of these tests is retired: the steps below are all
    executor = Executor(d.cloudformation, d.planner, d.watcher, d.reporter, allow_data_loss=False)
    executor.prepare(plan)
    context = RunContext(d.app, certificates=certificates)
    StepRunner(Registry().register(ApplyStack, Stacks(executor)), d.reporter).run(
        [apply_step(stack) for stack in plan.stacks], context
    )
    return DeployResult(tuple(context.stacks))


def outputs_of(result: DeployResult) -> dict[str, str]:
    return {k: v for stack in result.stacks for k, v in stack.outputs.items()}


@dataclass(frozen=True)
class Deployed:
    manifest: Path
    deployer: Deployer
    certificate: str
    dns: MemoryDns
    before: dict[str, str]  # the network's outputs without a domain
    outputs: dict[str, str]


def deploy_then_add_the_edge(tmp_path: Path, endpoint: str) -> Deployed:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(MANIFEST)
    before = outputs_of(deploy_stacks(deployer(manifest, endpoint)))
    manifest.write_text(MANIFEST + EDGE)
    d = deployer(manifest, endpoint)
    assert d.app.domain is not None
    dns = MemoryDns()
    arn = ensure_certificate(
        d.aws,
        names=[d.app.domain.api],
        zone=d.app.domain.name,
        dns=dns,
        tags=TAGS,
        poll_seconds=0.05,
        timeout_seconds=30,
    )
    assert dns.writes == 1
    result = deploy_stacks(d, arn)
    assert {s.name: s.status for s in result.stacks} == dict.fromkeys(STACKS, "UPDATE_COMPLETE")
    return Deployed(manifest, d, arn, dns, before, outputs_of(result))


def check_listeners(elbv2: Any, app: Deployed) -> tuple[dict[str, Any], dict[str, Any]]:
    outputs = app.outputs
    assert outputs["LoadBalancerArn"] == app.before["LoadBalancerArn"]
    listeners = {
        listener["Port"]: listener
        for listener in elbv2.describe_listeners(LoadBalancerArn=outputs["LoadBalancerArn"])[
            "Listeners"
        ]
    }
    assert set(listeners) == {80, 443}
    http, https = listeners[80], listeners[443]
    assert http["ListenerArn"] == outputs["HttpListenerArn"] == app.before["HttpListenerArn"]
    (redirect,) = http["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert {k: redirect["RedirectConfig"][k] for k in ("Protocol", "Port", "StatusCode")} == {
        "Protocol": "HTTPS",
        "Port": "443",
        "StatusCode": "HTTP_301",
    }
    assert https["ListenerArn"] == outputs["HttpsListenerArn"]
    assert https["Protocol"] == "HTTPS"
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"] == [{"CertificateArn": app.certificate}]
    assert https["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    return http, https


def check_rules_require_the_secret(aws: Any, app: Deployed) -> str:
    """The API's rule moved to HTTPS and requires the value CloudFormation resolved from
    the secret; the secret's value is returned."""
    elbv2 = aws("elbv2")
    secrets = aws("secretsmanager")
    value = str(
        secrets.get_secret_value(SecretId=app.outputs["OriginVerifySecretArn"])["SecretString"]
    )
    assert len(value) == 48
    assert value.isalnum()
    http_rules = elbv2.describe_rules(ListenerArn=app.outputs["HttpListenerArn"])["Rules"]
    assert all(r["IsDefault"] for r in http_rules)
    https_rules = elbv2.describe_rules(ListenerArn=app.outputs["HttpsListenerArn"])["Rules"]
    (rule,) = [r for r in https_rules if not r["IsDefault"]]
    (header,) = [c for c in rule["Conditions"] if c["Field"] == "http-header"]
    assert header["HttpHeaderConfig"] == {"HttpHeaderName": ORIGIN_VERIFY_HEADER, "Values": [value]}
    return value


def check_requests(endpoint: str, account: str, app: Deployed, secret: str) -> None:
    """What a client meets: HTTP redirects; HTTPS without the header is refused; with it
    the API's rule forwards (the emulator runs no task, so no target answers)."""
    dns_name = app.outputs["LoadBalancerDnsName"]

    def request(port: int, headers: dict[str, str]) -> httpx.Response:
        return through_load_balancer(
            endpoint, account, dns_name, port=port, path="/api/orders", headers=headers
        )

    moved = request(80, {})
    assert moved.status_code == 301
    assert moved.headers["location"] == f"https://{dns_name}:443/api/orders"
    refused = request(443, {})
    assert (refused.status_code, refused.text) == (403, "forbidden")
    assert request(443, {ORIGIN_VERIFY_HEADER: "guessed"}).status_code == 403
    forwarded = request(443, {ORIGIN_VERIFY_HEADER: secret})
    assert forwarded.status_code == 503
    assert "No registered targets" in forwarded.text


def test_adding_a_domain_and_a_cdn_serves_https_behind_the_origin_header(
    tmp_path: Path, emulator_endpoint: str, account: str, aws: Any
) -> None:
    app = deploy_then_add_the_edge(tmp_path, emulator_endpoint)

    check_listeners(aws("elbv2"), app)
    secret = check_rules_require_the_secret(aws, app)
    (group,) = aws("ec2").describe_security_groups(
        GroupIds=[app.outputs["LoadBalancerSecurityGroupId"]]
    )["SecurityGroups"]
    assert sorted(p["FromPort"] for p in group["IpPermissions"]) == [80, 443]
    check_requests(emulator_endpoint, account, app, secret)

    # Deployed again: the certificate is found, nothing changes, nothing is written.
    counter = CallCounter()
    again = deployer(app.manifest, emulator_endpoint, counter=counter)
    found = ensure_certificate(
        again.aws, names=["api.example.com"], zone="example.com", dns=app.dns, tags=TAGS
    )
    assert found == app.certificate
    assert [s.action for s in deploy_stacks(again, found).stacks] == ["unchanged", "unchanged"]
    assert counter.writes == []


def test_the_certificate_outlives_the_stacks_that_use_it(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    app = deploy_then_add_the_edge(tmp_path, emulator_endpoint)
    acm, arn, d = aws("acm"), app.certificate, app.deployer

    # The listener holds the certificate: it is kept, and said so, not an error.
    used = acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"]
    assert used == [app.outputs["LoadBalancerArn"]]
    notes = Notes()
    assert delete_certificate(d.aws, arn, notes) is False
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    (kept,) = notes.lines
    assert f"kept certificate {arn}: in use by {app.outputs['LoadBalancerArn']}" in kept

    # Once the stacks are gone, nothing uses it.
    Destroyer(d.aws, d.cloudformation, d.watcher, d.reporter).destroy(
        tuple(d.app.stack_name(k) for k in (StackKind.NETWORK, StackKind.SERVICES))
    )
    assert delete_certificate(d.aws, arn) is True
    assert acm.list_certificates()["CertificateSummaryList"] == []
