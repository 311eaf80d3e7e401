"""`cdn: { app: true, assets }` on the emulator: a Next.js-style web service on `/*` and a
host-routed API on one load balancer, CloudFront in front of the web app. The API answers
without CloudFront's header (no containers run here, so the load balancer says 503 with no
registered targets, never the CDN's 403); the web rule still requires it; the distribution's
default behavior is the load balancer and the assets path is the bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fargo.model.app import ORIGIN_VERIFY_HEADER
from tests.emulator.helpers import deployer, stack_outputs, through_load_balancer

MANIFEST = """\
app: next
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
"""
CHUNK = "chunks/main-3f9a1c2b4d5e6f70.js"

# AWS's managed policy ids (CloudFront Developer Guide).
USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.fixture
def deployed(tmp_path: Path, emulator_endpoint: str, aws: Any) -> None:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(MANIFEST)
    static = tmp_path / "web" / ".next" / "static" / CHUNK
    static.parent.mkdir(parents=True)
    static.write_text("console.log('next')")
    deployer(manifest, emulator_endpoint).deploy()


def test_the_distribution_fronts_the_app_and_serves_assets_from_the_bucket(
    deployed: None, aws: Any
) -> None:
    edge = stack_outputs(aws, "next-default-edge")
    network = stack_outputs(aws, "next-default-network")
    config = aws("cloudfront").get_distribution_config(Id=edge["DistributionId"])[
        "DistributionConfig"
    ]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    app = origins["fargo-next-default-app"]
    assert app["DomainName"] == network["LoadBalancerDnsName"]
    assert app["CustomOriginConfig"]["OriginProtocolPolicy"] == "http-only"
    (header,) = app["CustomHeaders"]["Items"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "fargo-next-default-app"
    assert sorted(default["AllowedMethods"]["Items"]) == sorted(
        ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
    )
    assert default["CachePolicyId"] == USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS
    assert default["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    (assets,) = config["CacheBehaviors"]["Items"]
    assert assets["PathPattern"] == "/_next/static/*"
    assert assets["TargetOriginId"] == "site"
    assert origins["site"]["DomainName"].startswith(edge["SiteBucketName"] + ".s3.")
    # The assets were uploaded under their path, as CloudFront asks S3 for the whole path.
    body = aws("s3").get_object(Bucket=edge["SiteBucketName"], Key=f"_next/static/{CHUNK}")
    assert body["Body"].read() == b"console.log('next')"


def test_the_host_routed_api_answers_without_the_cdn_header(
    deployed: None, aws: Any, emulator_endpoint: str, account: str
) -> None:
    network = stack_outputs(aws, "next-default-network")
    arn = network["LoadBalancerArn"]
    secret = aws("secretsmanager").get_secret_value(SecretId=network["OriginVerifySecretArn"])
    verify = {ORIGIN_VERIFY_HEADER: secret["SecretString"]}

    # The API is not behind the CDN: its rule matches without the header, and its target
    # group has no targets here (no containers run), hence 503, not the listener's 403.
    api = through_load_balancer(
        emulator_endpoint, account, "api.example.com", load_balancer_arn=arn
    )
    assert api.status_code == 503, api.text
    assert "no registered targets" in api.text.lower()

    # The web app is: without the header the listener's 403, with it the web rule (503).
    web = through_load_balancer(
        emulator_endpoint, account, "d111111abcdef8.cloudfront.net", load_balancer_arn=arn
    )
    assert (web.status_code, web.text) == (403, "forbidden")
    web = through_load_balancer(
        emulator_endpoint,
        account,
        "d111111abcdef8.cloudfront.net",
        load_balancer_arn=arn,
        headers=verify,
    )
    assert web.status_code == 503, web.text

    rules = aws("elbv2").describe_rules(ListenerArn=network["HttpListenerArn"])["Rules"]
    fields = {
        c["HostHeaderConfig"]["Values"][0]
        if "host-header" in {x["Field"] for x in r["Conditions"]}
        else "web": {x["Field"] for x in r["Conditions"]}
        for r in rules
        if not r["IsDefault"]
        for c in r["Conditions"][:1]
    }
    assert fields == {
        "api.example.com": {"host-header"},
        "web": {"path-pattern", "http-header"},
    }


def test_status_shows_the_urls_that_answer(
    deployed: None, tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    edge = stack_outputs(aws, "next-default-edge")
    report = deployer(tmp_path / "fargo.yml", emulator_endpoint).status()
    urls = {s.name: s.url for s in report.services}
    # The web app through the distribution, the API directly on its own host.
    assert urls == {
        "web": f"https://{edge['DistributionDomainName']}/",
        "api": "http://api.example.com/",
    }
