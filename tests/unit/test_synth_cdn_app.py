"""`cdn: { app: true, assets }`: CloudFront in front of the app itself. The default behavior
goes to the load balancer with the managed policies that follow the app's Cache-Control and
forward every viewer header but Host; the assets path comes from the private bucket; and
only the listener rules CloudFront forwards to require its secret header."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from fargo.errors import ManifestError
from fargo.manifest.load import parse_manifest
from fargo.model import StackKind, build_app
from fargo.model.app import ORIGIN_VERIFY_HEADER
from fargo.synth import StackTemplate
from fargo.synth.stack import IssuedCertificate, StackOutput
from tests.unit.synth_helpers import resources_of, stacks_from_text

# AWS's managed policy ids (CloudFront Developer Guide, "Use managed cache policies" and
# "Use managed response headers policies").
USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"

MANIFEST = """\
app: shop
services:
  web:
    image: nginx:1.27
    port: 3000
    http: { path: /*, healthcheck: /healthz }
  api:
    image: nginx:1.27
    port: 8000
    http: { host: api.example.com, healthcheck: /health }
cdn: { app: true, assets: { path: /_next/static/*, dir: ./web/.next/static } }
environments:
  domain: { domain: { name: example.com, dns: cloudflare } }
  noassets: { cdn: { assets: null } }
"""


def with_cdn(cdn: str) -> str:
    """The manifest without its environments, with `cdn: CDN` in place of its own."""
    return MANIFEST.replace(
        "cdn: { app: true, assets: { path: /_next/static/*, dir: ./web/.next/static } }",
        f"cdn: {cdn}",
    ).split("environments:")[0]


def stacks(env: str | None = None) -> dict[StackKind, StackTemplate]:
    return stacks_from_text(MANIFEST, env)


@pytest.fixture(scope="module")
def plain() -> dict[StackKind, StackTemplate]:
    return stacks()


@pytest.fixture(scope="module")
def with_domain() -> dict[StackKind, StackTemplate]:
    return stacks("domain")


def config(edge: StackTemplate) -> dict[str, Any]:
    distribution = edge.body["Resources"]["Distribution"]["Properties"]
    return distribution["DistributionConfig"]  # type: ignore[no-any-return]


def origins(edge: StackTemplate) -> dict[str, dict[str, Any]]:
    return {o["Id"]: o for o in config(edge)["Origins"]}


def rules(services: StackTemplate) -> dict[str, dict[str, Any]]:
    found = resources_of(services, "AWS::ElasticLoadBalancingV2::ListenerRule")
    return {k: v["Properties"] for k, v in found.items()}


def header_conditions(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in rule["Conditions"] if c["Field"] == "http-header"]


def test_default_behavior_is_the_load_balancer_with_all_methods(
    plain: dict[StackKind, StackTemplate],
) -> None:
    default = config(plain[StackKind.EDGE])["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "fargo-shop-default-app"
    assert sorted(default["AllowedMethods"]) == sorted(
        ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
    )
    assert default["CachePolicyId"] == USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS
    assert default["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    # The app answers `/` itself: no root object, and no function rewrites its paths.
    assert "DefaultRootObject" not in config(plain[StackKind.EDGE])
    assert "FunctionAssociations" not in default


def test_assets_path_reads_the_private_bucket(plain: dict[StackKind, StackTemplate]) -> None:
    edge = plain[StackKind.EDGE]
    (behavior,) = config(edge)["CacheBehaviors"]
    assert behavior["PathPattern"] == "/_next/static/*"
    assert behavior["TargetOriginId"] == "site"
    assert sorted(behavior["AllowedMethods"]) == ["GET", "HEAD"]
    assert behavior["CachePolicyId"] == CACHING_OPTIMIZED
    assert behavior["ResponseHeadersPolicyId"] == SECURITY_HEADERS
    site = origins(edge)["site"]
    assert site["DomainName"] == {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}
    assert site["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert set(edge.body["Outputs"]) == {
        "DistributionId",
        "DistributionDomainName",
        "DistributionIpv6Enabled",
        "DistributionArn",
        "SiteBucketName",
    }
    assert "SiteRequestFunction" not in edge.body["Resources"]


def test_without_assets_no_bucket_at_all() -> None:
    edge = stacks("noassets")[StackKind.EDGE]
    kinds = {r["Type"] for r in edge.body["Resources"].values()}
    assert kinds == {"AWS::CloudFront::Distribution"}
    assert list(origins(edge)) == ["fargo-shop-noassets-app"]
    assert "CacheBehaviors" not in config(edge)
    assert "SiteBucketName" not in edge.body["Outputs"]


def test_without_a_domain_the_origin_is_the_load_balancer_over_http(
    plain: dict[StackKind, StackTemplate],
) -> None:
    edge = plain[StackKind.EDGE]
    app = origins(edge)["fargo-shop-default-app"]
    assert app["DomainName"] == {"Ref": "LoadBalancerDnsName"}
    assert app["CustomOriginConfig"] == {"OriginProtocolPolicy": "http-only"}
    (header,) = app["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    assert config(edge)["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}


def test_with_a_domain_a_dedicated_origin_host_and_the_site_alias(
    with_domain: dict[StackKind, StackTemplate],
) -> None:
    edge = with_domain[StackKind.EDGE]
    app = origins(edge)["fargo-shop-domain-app"]
    assert app["DomainName"] == "origin.example.com"
    assert app["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert config(edge)["Aliases"] == ["www.example.com"]
    assert config(edge)["ViewerCertificate"]["AcmCertificateArn"] == {
        "Ref": "CloudFrontCertificateArn"
    }
    assert edge.parameters == {
        "CloudFrontCertificateArn": IssuedCertificate("cloudfront"),
        "OriginVerifySecretArn": StackOutput(StackKind.NETWORK, "OriginVerifySecretArn"),
    }


def test_the_load_balancer_names_the_origin_and_site_hosts() -> None:
    loaded = parse_manifest(textwrap.dedent(MANIFEST), "fargo.yml", "domain", {})
    app = build_app(loaded)
    # The origin host points at the load balancer (a CNAME) and its certificate names it;
    # the site host is on the certificate too, because the cache policy keys on Host and so
    # CloudFront forwards the viewer's Host, against which it checks the certificate.
    assert app.api_hosts == ("api.example.com", "origin.example.com")
    assert app.regional_certificate_hosts == (
        "api.example.com",
        "origin.example.com",
        "www.example.com",
    )


def test_the_api_host_points_nowhere_when_no_service_routes_it() -> None:
    """Behind the app's distribution every host-less rule requires CloudFront's header, so
    api.<zone> would answer only 403: without a service routed by it, it gets no record and
    is not on the certificate."""
    text = (
        with_cdn("{ app: true }")
        .replace("    http: { host: api.example.com, healthcheck: /health }\n", "")
        .replace("    port: 8000\n", "")
    )
    text += "domain: { name: example.com, dns: cloudflare }\n"
    app = build_app(parse_manifest(text, "fargo.yml", None, {}))
    assert app.api_hosts == ("origin.example.com",)
    assert app.regional_certificate_hosts == ("origin.example.com", "www.example.com")


@pytest.mark.parametrize("env", [None, "domain"])
def test_only_rules_behind_the_cdn_require_the_secret_header(env: str | None) -> None:
    found = rules(stacks(env)[StackKind.SERVICES])
    # api.example.com is routed by host and never named by CloudFront: reached directly.
    assert header_conditions(found["ApiListenerRule"]) == []
    (header,) = header_conditions(found["WebListenerRule"])
    assert header["HttpHeaderConfig"]["HttpHeaderName"] == ORIGIN_VERIFY_HEADER


def test_urls_of_services_behind_the_cdn_are_the_distributions(
    with_domain: dict[StackKind, StackTemplate], plain: dict[StackKind, StackTemplate]
) -> None:
    outputs = with_domain[StackKind.SERVICES].body["Outputs"]
    assert outputs["WebUrl"]["Value"] == "https://www.example.com/"
    assert outputs["ApiUrl"]["Value"] == "https://api.example.com/"
    # Without a domain the distribution's name is known only once the edge stack exists.
    outputs = plain[StackKind.SERVICES].body["Outputs"]
    assert "WebUrl" not in outputs
    assert outputs["ApiUrl"]["Value"] == "http://api.example.com/"


@pytest.mark.parametrize(
    ("cdn", "message"),
    [
        ("{ app: true, static: ./dist }", "exactly one of `existing`, `static` or `app`"),
        ("{ app: false }", "exactly one of `existing`, `static` or `app`"),
        ("{ app: true, path: /api/* }", "`cdn.path` does not apply with `app: true`"),
        ("{ static: ./d, assets: { path: /a/*, dir: ./a } }", "`cdn.assets` needs `app: true`"),
        ("{ app: true, assets: { path: /_next/*/x/*, dir: ./a } }", "not a path prefix"),
        ("{ app: true, assets: { path: /*, dir: ./a } }", "not a path prefix"),
        ("{ static: ./d, spa_errors: function }", "applies only to an `existing`"),
    ],
)
def test_cdn_choices_are_checked(cdn: str, message: str) -> None:
    text = with_cdn(cdn)
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "fargo.yml", None, {})
    (problem,) = caught.value.problems
    assert message in problem.message
    assert problem.path.startswith("cdn")
    assert problem.line == 11
    assert problem.hint


def test_dns_points_the_origin_host_at_the_load_balancer_and_the_site_at_the_cdn() -> None:
    from fargo.edge.dns.records import DnsRecord  # noqa: PLC0415
    from fargo.edge.wanted import wanted_records  # noqa: PLC0415
    from fargo.outputs import DeployedOutputs  # noqa: PLC0415

    app = build_app(parse_manifest(textwrap.dedent(MANIFEST), "fargo.yml", "domain", {}))
    outputs = {
        StackKind.NETWORK: {"LoadBalancerDnsName": "shop-123.us-east-1.elb.amazonaws.com"},
        StackKind.EDGE: {"DistributionDomainName": "d111111abcdef8.cloudfront.net"},
    }
    assert wanted_records(app, DeployedOutputs(app, outputs)) == [
        DnsRecord("api.example.com", "CNAME", "shop-123.us-east-1.elb.amazonaws.com"),
        DnsRecord("origin.example.com", "CNAME", "shop-123.us-east-1.elb.amazonaws.com"),
        DnsRecord("www.example.com", "CNAME", "d111111abcdef8.cloudfront.net"),
    ]


def test_the_app_and_the_api_cannot_share_a_host() -> None:
    text = MANIFEST.split("environments:", maxsplit=1)[0] + (
        "domain: { name: example.com, api: www.example.com, dns: cloudflare }\n"
    )
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "fargo.yml", None, {})
    (problem,) = caught.value.problems
    assert "cannot share the host www.example.com" in problem.message


@pytest.mark.parametrize(
    ("cdn", "hint"),
    [
        ("{ app: true, spa: false }", "the app answers every path itself"),
        ("{ existing: E2ABCDEF123456, spa: true }", "spa_errors: function"),
    ],
)
def test_spa_is_refused_where_no_static_site_is_served(cdn: str, hint: str) -> None:
    text = with_cdn(cdn)
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "fargo.yml", None, {})
    (problem,) = caught.value.problems
    assert "`cdn.spa` applies only to a `static` site" in problem.message
    assert (problem.path, problem.line) == ("cdn.spa", 11)
    assert hint in (problem.hint or "")


def test_a_static_site_still_takes_spa() -> None:
    text = with_cdn("{ static: ./dist, spa: false }")
    app = build_app(parse_manifest(text, "fargo.yml", None, {}))
    assert app.cdn is not None
    assert app.cdn.spa is False


def test_a_service_cannot_route_the_origin_host() -> None:
    """With a domain, CloudFront reaches the load balancer as origin.<zone>: a service that
    routed that host would take the app's traffic."""
    text = MANIFEST.split("environments:", maxsplit=1)[0].replace(
        "http: { host: api.example.com, healthcheck: /health }",
        "http:\n      host: origin.example.com\n      healthcheck: /health",
    ) + ("domain: { name: example.com, dns: cloudflare }\n")
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "fargo.yml", None, {})
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == ("services.api.http.host", 11)
    assert "origin.example.com" in problem.message
    assert "another name" in (problem.hint or "")
    assert caught.value.exit_code == 2


def test_neither_the_api_nor_the_site_may_be_the_origin_host() -> None:
    text = MANIFEST.split("environments:", maxsplit=1)[0] + (
        "domain: { name: example.com, api: origin.example.com, dns: cloudflare }\n"
    )
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "fargo.yml", None, {})
    (problem,) = caught.value.problems
    assert problem.path == "domain.api"
    assert "origin.example.com" in problem.message


def test_the_origin_host_is_free_without_cdn_app() -> None:
    """Only `cdn: { app }` keeps origin.<zone>; a static site's API path reaches the API host."""
    text = (
        MANIFEST.split("environments:", maxsplit=1)[0]
        .replace("host: api.example.com", "host: origin.example.com")
        .replace(
            "cdn: { app: true, assets: { path: /_next/static/*, dir: ./web/.next/static } }",
            "cdn: { static: ./dist }\ndomain: { name: example.com, dns: cloudflare }",
        )
    )
    app = build_app(parse_manifest(text, "fargo.yml", None, {}))
    assert [s.route.host for s in app.services if s.route] == [None, "origin.example.com"]


PATHS = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
  admin:
    image: nginx:1.27
    port: 8001
    http: { path: /admin/*, healthcheck: /admin/health }
  pages:
    image: nginx:1.27
    port: 8002
    http: { path: /*, healthcheck: /health }
domain: { name: example.com, dns: cloudflare }
cdn: CDN
"""


@pytest.mark.parametrize("cdn", ["{ static: ./dist }", "{ existing: E2ABCDEF123456 }"])
def test_only_routes_whose_paths_cloudfront_sends_are_behind_it(cdn: str) -> None:
    """CloudFront sends the load balancer only `cdn.path` (/api/*): /admin/* never comes
    through it, so its rule needs no header and its URL is the load balancer's; /* does
    take CloudFront's /api/ requests, so it needs the header, and answers there."""
    services = stacks_from_text(PATHS.replace("CDN", cdn))[StackKind.SERVICES]
    found = rules(services)
    assert header_conditions(found["ApiListenerRule"])
    assert header_conditions(found["PagesListenerRule"])
    assert header_conditions(found["AdminListenerRule"]) == []
    outputs = services.body["Outputs"]
    assert outputs["AdminUrl"]["Value"] == "https://api.example.com/admin/"
    if "static" in cdn:
        # fargo's own distribution with a domain: the site host, at the paths CloudFront sends.
        assert outputs["ApiUrl"]["Value"] == "https://www.example.com/api/"
        assert outputs["PagesUrl"]["Value"] == "https://www.example.com/api/"
    else:
        assert "ApiUrl" not in outputs  # the user's distribution: status reads its name
