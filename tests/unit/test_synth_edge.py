"""The edge stack of `cdn: { static }`: a private bucket read through an origin access
control, the site's path rewrites on its own behavior only, and the API behind `/api/*`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fargo.manifest.load import parse_manifest
from fargo.model import StackKind, build_app
from fargo.model.app import (
    ALL_VIEWER_EXCEPT_HOST_POLICY,
    CACHING_DISABLED_POLICY,
    ORIGIN_VERIFY_HEADER,
)
from fargo.synth import StackTemplate
from fargo.synth.site_function import DIRECTORY_INDEX, SPA_FALLBACK
from fargo.synth.stack import IssuedCertificate, StackOutput
from tests.unit.synth_helpers import resources_of, stacks_from_text

MANIFEST = """\
app: shop
services:
  api:
    image: nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
cdn: { static: ./site }
environments:
  domain: { domain: { name: example.com, dns: cloudflare } }
  nospa: { cdn: { spa: false, path: /v1/* } }
"""


def edge(env: str | None = None) -> StackTemplate:
    return stacks_from_text(MANIFEST, env)[StackKind.EDGE]


@pytest.fixture(scope="module")
def plain() -> StackTemplate:
    return edge()


@pytest.fixture(scope="module")
def with_domain() -> StackTemplate:
    return edge("domain")


def props(template: StackTemplate, logical_id: str) -> dict[str, Any]:
    return template.body["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]


def config(template: StackTemplate) -> dict[str, Any]:
    return props(template, "Distribution")["DistributionConfig"]  # type: ignore[no-any-return]


def origins(template: StackTemplate) -> dict[str, dict[str, Any]]:
    return {o["Id"]: o for o in config(template)["Origins"]}


def test_edge_stack_follows_the_services_and_only_with_a_static_site(plain: StackTemplate) -> None:
    kinds = list(stacks_from_text(MANIFEST))
    assert kinds == [StackKind.NETWORK, StackKind.SERVICES, StackKind.EDGE]
    assert plain.name == "shop-default-edge"
    without = MANIFEST.replace("cdn: { static: ./site }\n", "").split("environments:")[0]
    assert StackKind.EDGE not in stacks_from_text(without)
    existing = without + "cdn: { existing: E2ABCDEF123456 }\n"
    assert StackKind.EDGE not in stacks_from_text(existing)


def test_site_bucket_is_private_encrypted_and_kept(plain: StackTemplate) -> None:
    (bucket_id,) = resources_of(plain, "AWS::S3::Bucket")
    bucket = plain.body["Resources"][bucket_id]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    (ownership,) = bucket["Properties"]["OwnershipControls"]["Rules"]
    assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}


def test_only_this_distribution_reads_the_bucket_over_tls(plain: StackTemplate) -> None:
    policy = props(plain, "SiteBucketPolicy")
    assert policy["Bucket"] == {"Ref": "SiteBucket"}
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    tls = statements["TlsOnly"]
    assert (tls["Effect"], tls["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    read = statements["CloudFrontReadsTheSite"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == {"Fn::Sub": "${SiteBucket.Arn}/*"}
    arn = read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert arn == "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
    hidden = statements["PublisherManifestIsNotServed"]
    assert (hidden["Effect"], hidden["Resource"]) == (
        "Deny",
        {"Fn::Sub": "${SiteBucket.Arn}/.fargo/*"},
    )
    # Nothing in the policy lets anyone but CloudFront in.
    allowed = [s for s in statements.values() if s["Effect"] == "Allow"]
    assert all(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in allowed)


def test_site_origin_signs_with_the_origin_access_control(plain: StackTemplate) -> None:
    control = props(plain, "SiteOriginAccessControl")["OriginAccessControlConfig"]
    assert (
        control["OriginAccessControlOriginType"],
        control["SigningBehavior"],
        control["SigningProtocol"],
    ) == ("s3", "always", "sigv4")
    site = origins(plain)["site"]
    assert site["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert site["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert site["DomainName"] == {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}


def test_default_behavior_serves_the_site_cached(plain: StackTemplate) -> None:
    cfg = config(plain)
    assert cfg["DefaultRootObject"] == "index.html"
    assert (cfg["PriceClass"], cfg["HttpVersion"], cfg["IPV6Enabled"]) == (
        "PriceClass_100",
        "http2and3",
        True,
    )
    default = cfg["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "site"
    assert default["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["AllowedMethods"] == ["GET", "HEAD"]
    assert default["Compress"] is True


def test_spa_fallback_runs_on_the_site_behavior_only(plain: StackTemplate) -> None:
    function = props(plain, "SiteRequestFunction")
    assert function["FunctionCode"] == SPA_FALLBACK
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True
    cfg = config(plain)
    (association,) = cfg["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association == {
        "EventType": "viewer-request",
        "FunctionARN": {"Fn::GetAtt": ["SiteRequestFunction", "FunctionMetadata.FunctionARN"]},
    }
    (api,) = cfg["CacheBehaviors"]
    assert "FunctionAssociations" not in api
    # Error responses would rewrite the API's 404s and 5xx too: the fallback is the function.
    assert "CustomErrorResponses" not in cfg


def test_without_spa_paths_map_to_directory_index_pages() -> None:
    nospa = edge("nospa")
    assert props(nospa, "SiteRequestFunction")["FunctionCode"] == DIRECTORY_INDEX
    cfg = config(nospa)
    assert "CustomErrorResponses" not in cfg
    (api,) = cfg["CacheBehaviors"]
    assert api["PathPattern"] == "/v1/*"
    assert "FunctionAssociations" not in api


def test_api_behavior_forwards_everything_and_caches_nothing(plain: StackTemplate) -> None:
    (api,) = config(plain)["CacheBehaviors"]
    assert api["PathPattern"] == "/api/*"
    assert api["TargetOriginId"] == "fargo-shop-default-api"
    assert sorted(api["AllowedMethods"]) == sorted(
        ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
    )
    assert api["CachePolicyId"] == CACHING_DISABLED_POLICY
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_POLICY
    assert (api["ViewerProtocolPolicy"], api["Compress"]) == ("redirect-to-https", True)


def test_api_origin_without_a_domain_is_the_load_balancer_over_http(
    plain: StackTemplate,
) -> None:
    api = origins(plain)["fargo-shop-default-api"]
    assert api["DomainName"] == {"Ref": "LoadBalancerDnsName"}
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "http-only"
    (header,) = api["OriginCustomHeaders"]
    assert header == {
        "HeaderName": ORIGIN_VERIFY_HEADER,
        "HeaderValue": {
            "Fn::Sub": [
                "{{resolve:secretsmanager:${Arn}:SecretString}}",
                {"Arn": {"Ref": "OriginVerifySecretArn"}},
            ]
        },
    }
    assert plain.parameters == {
        "LoadBalancerDnsName": StackOutput(StackKind.NETWORK, "LoadBalancerDnsName"),
        "OriginVerifySecretArn": StackOutput(StackKind.NETWORK, "OriginVerifySecretArn"),
    }
    assert config(plain)["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in config(plain)


def test_with_a_domain_the_api_host_over_https_and_the_site_host_as_alias(
    with_domain: StackTemplate,
) -> None:
    api = origins(with_domain)["fargo-shop-domain-api"]
    assert api["DomainName"] == "api.example.com"
    assert api["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }
    cfg = config(with_domain)
    app = build_app(parse_manifest(MANIFEST, "fargo.yml", "domain", {}))
    assert app.domain is not None
    assert cfg["Aliases"] == [app.domain.site]
    assert app.domain.site.endswith("example.com")
    assert cfg["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": "CloudFrontCertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert with_domain.parameters == {
        "CloudFrontCertificateArn": IssuedCertificate("cloudfront"),
        "OriginVerifySecretArn": StackOutput(StackKind.NETWORK, "OriginVerifySecretArn"),
    }


def test_outputs_name_the_distribution_and_bucket(plain: StackTemplate) -> None:
    outputs = plain.body["Outputs"]
    assert set(outputs) == {
        "DistributionId",
        "DistributionDomainName",
        "DistributionArn",
        "DistributionIpv6Enabled",
        "SiteBucketName",
    }
    assert outputs["DistributionId"]["Value"] == {"Ref": "Distribution"}
    # What the distribution says of itself: Route 53 writes an AAAA alias only then.
    ipv6 = plain.body["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert outputs["DistributionIpv6Enabled"]["Value"] == str(ipv6["IPV6Enabled"]).lower()
    assert outputs["DistributionDomainName"]["Value"] == {
        "Fn::GetAtt": ["Distribution", "DomainName"]
    }
    assert outputs["SiteBucketName"]["Value"] == {"Ref": "SiteBucket"}


@pytest.mark.parametrize("env", [None, "domain", "nospa"])
def test_no_route53_anywhere_and_every_resource_described(env: str | None) -> None:
    stacks = stacks_from_text(MANIFEST, env)
    for template in stacks.values():
        assert "AWS::Route53::" not in json.dumps(template.body)
    for resource in stacks[StackKind.EDGE].body["Resources"].values():
        assert resource["Metadata"]["fargo"]["description"]
