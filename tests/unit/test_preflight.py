"""The pre-flight checks' pure parts: ECR references, the error pages that swallow API
errors, the DNS zone check's outcomes with and without credentials, and how results are
shown in text and JSON. The lookups themselves run against the emulator and real DNS
servers in tests/emulator/test_preflight.py and tests/integration."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from fargo.aws.facade import Aws, AwsConfig
from fargo.edge.dns.errors import DnsZoneNotFound, missing_credentials
from fargo.edge.dns.provider import DnsProvider
from fargo.edge.spa_errors import swallowing_error_pages
from fargo.manifest.load import load_manifest
from fargo.model import build_app
from fargo.model.app import App
from fargo.plan.checks import Check, Findings, PlanWarning, PreflightFailed, render_findings
from fargo.plan.planner import Plan
from fargo.plan.render import plan_json, render_plan
from fargo.preflight import Preflight
from fargo.preflight.cdn import error_pages_warning
from fargo.preflight.dns import dns_zone
from fargo.preflight.images import ecr_image
from tests.fixtures.cloudfront import load
from tests.unit.memory_dns import MemoryDns

DIGEST = "sha256:" + "ab" * 32


def test_an_ecr_reference_is_split_into_account_region_repository_and_image() -> None:
    image = ecr_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:v1.2")
    assert image is not None
    assert (image.account, image.region, image.repository) == (
        "123456789012",
        "eu-west-1",
        "shop/api",
    )
    assert image.image_id == {"imageTag": "v1.2"}


def test_a_digest_pins_the_image_and_no_tag_means_latest() -> None:
    pinned = ecr_image(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1@{DIGEST}")
    bare = ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/api")
    assert pinned is not None
    assert pinned.image_id == {"imageDigest": DIGEST}
    assert bare is not None
    assert bare.image_id == {"imageTag": "latest"}


@pytest.mark.parametrize(
    "ref",
    [
        "nginx:1.27",
        "public.ecr.aws/docker/library/nginx:1.27",
        "ghcr.io/acme/api:v1",
        "localhost:5000/api:v1",
    ],
)
def test_other_registries_are_not_ecr(ref: str) -> None:
    assert ecr_image(ref) is None


def test_spa_error_pages_are_found_and_named_in_the_warning() -> None:
    # rich.json maps 403 to /index.html with 200 (the SPA habit) and 404 to /404.html.
    pages = swallowing_error_pages(load("rich"))
    assert [p["ErrorCode"] for p in pages] == [403, 404]

    warning = error_pages_warning("E2ABCDEF123456", pages)
    assert warning.code == "cdn-error-pages"
    assert "403 with /index.html (status 200)" in warning.message
    assert "404 with /404.html (status 404)" in warning.message


def test_error_responses_that_keep_the_origins_answer_are_not_reported() -> None:
    config = load("bare")
    config["CustomErrorResponses"] = {
        "Quantity": 2,
        "Items": [
            # Only the error caching TTL: the origin's body and status reach the viewer.
            {"ErrorCode": 404, "ResponsePagePath": "", "ResponseCode": "", "ErrorCachingMinTTL": 5},
            # A 502 page does not hide an API 403 or 404.
            {"ErrorCode": 502, "ResponsePagePath": "/oops.html", "ResponseCode": "502"},
        ],
    }
    assert swallowing_error_pages(config) == []
    assert swallowing_error_pages(load("bare")) == []


def _app(tmp_path: Path, dns: str) -> App:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(
        textwrap.dedent(f"""\
        app: shop
        services:
          api:
            image: nginx:1.27
            port: 8000
            http: {{ path: /*, healthcheck: /health }}
        domain: {{ name: example.com, dns: {dns} }}
        """)
    )
    return build_app(load_manifest(manifest, None))


def _preflight(app: App, dns: Callable[[], DnsProvider], *, deploying: bool) -> Preflight:
    aws = Aws(AwsConfig(region=app.region, static_credentials=("unused", "unused")))
    return Preflight(app, aws, dns, lambda _region: aws, deploying=deploying)


def _no_credentials() -> DnsProvider:
    raise missing_credentials("cloudflare", ["CLOUDFLARE_API_TOKEN"])


def test_dns_zone_is_ok_when_the_provider_finds_the_zone(tmp_path: Path) -> None:
    app = _app(tmp_path, "cloudflare")
    (check,) = dns_zone(_preflight(app, MemoryDns, deploying=False)).checks
    assert (check.name, check.status) == ("dns-zone", "OK")
    assert "example.com at cloudflare" in check.detail


def test_plan_without_dns_credentials_skips_the_zone_and_names_the_variable(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path, "cloudflare")
    (check,) = dns_zone(_preflight(app, _no_credentials, deploying=False)).checks
    assert check.status == "SKIPPED"
    assert check.detail == "not checked: CLOUDFLARE_API_TOKEN is not set"


def test_deploy_without_dns_credentials_fails_the_zone_check(tmp_path: Path) -> None:
    app = _app(tmp_path, "cloudflare")
    (check,) = dns_zone(_preflight(app, _no_credentials, deploying=True)).checks
    assert check.status == "FAILED"
    assert "CLOUDFLARE_API_TOKEN is not set" in check.detail
    assert check.hint is not None
    assert "export CLOUDFLARE_API_TOKEN=" in check.hint


class _NoZone(MemoryDns):
    def find_zone(self, zone: str) -> str:
        raise DnsZoneNotFound(f"memory: no zone {zone}", hint="create it")


def test_a_zone_the_provider_lacks_fails_the_check_with_the_providers_words(
    tmp_path: Path,
) -> None:
    app = _app(tmp_path, "cloudflare")
    (check,) = dns_zone(_preflight(app, _NoZone, deploying=False)).checks
    assert check.status == "FAILED"
    assert check.detail == "zone example.com at cloudflare: memory: no zone example.com"
    assert check.hint == "create it"


def test_no_domain_means_no_dns_check(tmp_path: Path) -> None:
    app = _app(tmp_path, "cloudflare")
    app = replace(app, domain=None)
    assert dns_zone(_preflight(app, _no_credentials, deploying=True)) == Findings()


FOUND = Findings.of(
    Check("dns-zone", "OK", "zone example.com at route53: found"),
    Check("secret:API_KEY", "FAILED", "secretsmanager:shop/api: no such secret", "create it"),
    Check("image:api", "SKIPPED", "nginx:1.27: not in ECR, so not looked up"),
    warnings=[PlanWarning("cdn-error-pages", "distribution E1 answers 403 with /index.html")],
)


def test_plan_text_shows_each_check_and_warning() -> None:
    text = render_plan(Plan((), checks=FOUND.checks, warnings=FOUND.warnings))
    assert text.splitlines() == [
        "checks:",
        "  OK      dns-zone  zone example.com at route53: found",
        "  FAILED  secret:API_KEY  secretsmanager:shop/api: no such secret",
        "  SKIPPED image:api  nginx:1.27: not in ECR, so not looked up",
        "warning [cdn-error-pages]: distribution E1 answers 403 with /index.html",
    ]
    assert render_findings((), ()) == []


def test_plan_json_carries_checks_and_warnings() -> None:
    body = plan_json(Plan((), checks=FOUND.checks, warnings=FOUND.warnings))
    assert body["checks"][1] == {
        "name": "secret:API_KEY",
        "status": "FAILED",
        "detail": "secretsmanager:shop/api: no such secret",
        "hint": "create it",
    }
    assert body["warnings"] == [
        {"code": "cdn-error-pages", "message": "distribution E1 answers 403 with /index.html"}
    ]


def test_a_failed_check_is_bad_input_naming_the_check_what_was_looked_up_and_the_hint() -> None:
    error = PreflightFailed(FOUND)
    assert error.exit_code == 2
    assert error.message == "pre-flight check failed: secret:API_KEY; nothing was changed"
    assert error.render().splitlines() == [
        error.message,
        "  secret:API_KEY: secretsmanager:shop/api: no such secret",
        "    hint: create it",
    ]
    body = json.loads(json.dumps(error.to_json()))
    assert body["exit_code"] == 2
    assert [c["status"] for c in body["checks"]] == ["OK", "FAILED", "SKIPPED"]
    assert body["warnings"][0]["code"] == "cdn-error-pages"
