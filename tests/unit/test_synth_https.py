"""A domain in the templates: the HTTPS listener and its certificate parameter, HTTP
redirecting to it, and with a CDN the secret header every listener rule requires."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fargo.model import StackKind
from fargo.model.app import ORIGIN_VERIFY_HEADER
from fargo.synth import StackTemplate
from fargo.synth.common import STAMP_KEY
from fargo.synth.stack import IssuedCertificate, StackOutput
from tests.unit.synth_helpers import resources_of, stacks_from_text

MANIFEST = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
  admin:
    image: nginx:1.27
    port: 8080
    http: { host: admin.example.com, healthcheck: /health }
  worker:
    image: nginx:1.27
    command: [sleep, infinity]
domain: { name: example.com, dns: powerdns }
environments:
  existing: { cdn: { existing: E2ABCDEF123456 } }
  cdnonly: { domain: null, cdn: { existing: E2ABCDEF123456 } }
  route53: { domain: { dns: route53 } }
  plain: { domain: null }
"""
ENVIRONMENTS = [None, "existing", "cdnonly", "route53", "plain"]

Stacks = dict[StackKind, StackTemplate]


@pytest.fixture(scope="module")
def synthesized() -> dict[str | None, Stacks]:
    return {env: stacks_from_text(MANIFEST, env) for env in ENVIRONMENTS}


def resource(template: StackTemplate, logical_id: str) -> dict[str, Any]:
    return template.body["Resources"][logical_id]  # type: ignore[no-any-return]


def props(template: StackTemplate, logical_id: str) -> dict[str, Any]:
    return resource(template, logical_id)["Properties"]  # type: ignore[no-any-return]


def skips(template: StackTemplate, logical_id: str) -> set[str]:
    metadata = resource(template, logical_id).get("Metadata", {})
    return {s["id"] for s in metadata.get("checkov", {}).get("skip", [])}


def rules(services: StackTemplate) -> dict[str, dict[str, Any]]:
    found = resources_of(services, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert set(found) == {"ApiListenerRule", "AdminListenerRule"}
    return {k: v["Properties"] for k, v in found.items()}


def header_conditions(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in rule["Conditions"] if c["Field"] == "http-header"]


def test_https_listener_has_the_certificate_and_a_tls12_policy(
    synthesized: dict[str | None, Stacks],
) -> None:
    network = synthesized[None][StackKind.NETWORK]
    https = props(network, "HttpsListener")
    assert (https["Port"], https["Protocol"]) == (443, "HTTPS")
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["LoadBalancerArn"] == {"Ref": "LoadBalancer"}
    (default,) = https["DefaultActions"]
    assert default["FixedResponseConfig"]["StatusCode"] == "404"
    # The certificate is issued before any stack changes and handed in as a parameter.
    assert network.body["Parameters"]["CertificateArn"]["Type"] == "String"
    assert network.parameters == {"CertificateArn": IssuedCertificate("regional")}
    assert network.body["Outputs"]["HttpsListenerArn"]["Value"] == {"Ref": "HttpsListener"}


def test_http_redirects_to_https_and_needs_no_skips_with_a_domain(
    synthesized: dict[str | None, Stacks],
) -> None:
    network = synthesized[None][StackKind.NETWORK]
    (action,) = props(network, "HttpListener")["DefaultActions"]
    assert action == {
        "Type": "redirect",
        "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
    }
    assert skips(network, "HttpListener") == set()
    plain = synthesized["plain"][StackKind.NETWORK]
    assert skips(plain, "HttpListener") == {"CKV_AWS_2", "CKV_AWS_103"}


def test_load_balancer_admits_443_only_with_a_domain(
    synthesized: dict[str | None, Stacks],
) -> None:
    def ports(env: str | None) -> list[tuple[int, str]]:
        group = props(synthesized[env][StackKind.NETWORK], "LoadBalancerSecurityGroup")
        return [(r["FromPort"], r["CidrIp"]) for r in group["SecurityGroupIngress"]]

    assert ports(None) == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0")]
    assert ports("plain") == [(80, "0.0.0.0/0")]
    # The group's description (which replaces the group when it changes) stays the same.
    descriptions = {
        props(synthesized[env][StackKind.NETWORK], "LoadBalancerSecurityGroup")[
            "GroupDescription"
        ].split(" ", 1)[1]
        for env in ENVIRONMENTS
    }
    assert descriptions == {"load balancer: HTTP from anywhere"}


def test_services_rules_attach_to_the_https_listener(
    synthesized: dict[str | None, Stacks],
) -> None:
    services = synthesized[None][StackKind.SERVICES]
    for rule in rules(services).values():
        assert rule["ListenerArn"] == {"Ref": "HttpsListenerArn"}
        assert header_conditions(rule) == []
    assert services.parameters["HttpsListenerArn"] == StackOutput(
        StackKind.NETWORK, "HttpsListenerArn"
    )
    assert "HttpListenerArn" not in services.parameters
    plain = synthesized["plain"][StackKind.SERVICES]
    for rule in rules(plain).values():
        assert rule["ListenerArn"] == {"Ref": "HttpListenerArn"}


@pytest.mark.parametrize(
    ("env", "listener"), [("existing", "HttpsListener"), ("cdnonly", "HttpListener")]
)
def test_a_cdn_makes_the_rules_it_forwards_to_require_the_secret_header(
    synthesized: dict[str | None, Stacks], env: str, listener: str
) -> None:
    network, services = synthesized[env][StackKind.NETWORK], synthesized[env][StackKind.SERVICES]
    found = rules(services)
    # CloudFront names the API host (or the load balancer) in Host, never admin.example.com:
    # the admin service's rule is not behind the CDN and answers without the header.
    admin = found.pop("AdminListenerRule")
    assert header_conditions(admin) == []
    assert [c["Field"] for c in admin["Conditions"]] == ["host-header"]
    for rule in found.values():
        (condition,) = header_conditions(rule)
        config = condition["HttpHeaderConfig"]
        assert config["HttpHeaderName"] == ORIGIN_VERIFY_HEADER
        assert config["Values"] == [
            {
                "Fn::Sub": [
                    "{{resolve:secretsmanager:${Arn}:SecretString}}",
                    {"Arn": {"Ref": "OriginVerifySecretArn"}},
                ]
            }
        ]
        # The route's own conditions are still there.
        assert len(rule["Conditions"]) == 2
    assert services.parameters["OriginVerifySecretArn"] == StackOutput(
        StackKind.NETWORK, "OriginVerifySecretArn"
    )
    # A request without the header reaches no rule: the API's listener says 403.
    (default,) = props(network, listener)["DefaultActions"]
    assert default["FixedResponseConfig"] == {
        "StatusCode": "403",
        "ContentType": "text/plain",
        "MessageBody": "forbidden",
    }


def test_the_origin_secret_is_generated_as_a_valid_header_value(
    synthesized: dict[str | None, Stacks],
) -> None:
    network = synthesized["existing"][StackKind.NETWORK]
    secret = resource(network, "OriginVerifySecret")
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    generate = secret["Properties"]["GenerateSecretString"]
    assert generate["PasswordLength"] >= 32
    assert generate["ExcludePunctuation"] is True
    assert generate["IncludeSpace"] is False
    assert network.body["Outputs"]["OriginVerifySecretArn"]["Value"] == {
        "Ref": "OriginVerifySecret"
    }
    for env in (None, "plain", "route53"):
        template = synthesized[env][StackKind.NETWORK]
        assert "OriginVerifySecret" not in template.body["Resources"]
        assert "OriginVerifySecretArn" not in synthesized[env][StackKind.SERVICES].parameters


def test_without_a_cdn_the_listeners_answer_404(synthesized: dict[str | None, Stacks]) -> None:
    (default,) = props(synthesized["plain"][StackKind.NETWORK], "HttpListener")["DefaultActions"]
    assert default["FixedResponseConfig"]["StatusCode"] == "404"
    assert "HttpsListener" not in synthesized["plain"][StackKind.NETWORK].body["Resources"]
    assert synthesized["plain"][StackKind.NETWORK].parameters == {}


def test_no_template_writes_dns(synthesized: dict[str | None, Stacks]) -> None:
    """DNS records go through the provider's API, Route 53 included: no template has any."""
    for env, stacks in synthesized.items():
        for template in stacks.values():
            types = {r["Type"] for r in template.body["Resources"].values()}
            assert not {t for t in types if t.startswith("AWS::Route53::")}, (env, template.name)
            assert "AWS::CertificateManager::Certificate" not in types


def test_without_a_domain_the_templates_are_as_before(
    synthesized: dict[str | None, Stacks],
) -> None:
    """Dropping `domain` gives exactly the templates of a manifest that never had one."""
    never = stacks_from_text(MANIFEST.replace("domain: { name: example.com, dns: powerdns }\n", ""))

    def body(template: StackTemplate) -> str:
        clean = json.loads(json.dumps(template.body))
        del clean["Metadata"][STAMP_KEY]
        return json.dumps(clean, sort_keys=True).replace("plain", "default")

    plain = synthesized["plain"]
    assert set(plain) == set(never)
    for kind, template in never.items():
        assert body(plain[kind]) == body(template)
        assert plain[kind].parameters == template.parameters
