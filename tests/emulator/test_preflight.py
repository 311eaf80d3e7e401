"""Pre-flight checks on the emulator: a missing hosted zone, secret or distribution stops
`plan` and `deploy` with exit 2 naming the check, before a certificate is requested or a
stack touched; `fargo secrets set` is the fix a failed secret check names; warnings (SPA
error pages, an ECR image not pushed yet) do not stop anything."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import edit, last_updated, run_fargo
from tests.fixtures.cloudfront import load
from tests.integration.powerdns import PowerDns

API = """\
app: shop
services:
  api:
    image: IMAGE
    port: 8000
    http: { path: /*, healthcheck: /health }
"""
NGINX = "public.ecr.aws/docker/library/nginx:1.27"
STACKS = ["shop-default-network", "shop-default-services"]
DIGEST = "sha256:" + "0" * 64
VALUE = "sk_live_51HqZ-not-to-be-printed"


def write(tmp_path: Path, extra: str = "", image: str = NGINX, service: str = "") -> Path:
    path = tmp_path / "fargo.yml"
    text = API.replace("IMAGE", image) + textwrap.indent(textwrap.dedent(service), "    ")
    path.write_text(text + textwrap.dedent(extra))
    return path


def fargo(*args: str, endpoint: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_fargo(*args, "--endpoint-url", endpoint, stdin=stdin)


def checks_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in body["checks"]}


def absent(aws: Any, names: list[str]) -> bool:
    """None of the stacks exists (a stack that never was is not listed at all)."""
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    live = {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}
    return not live & set(names)


def test_a_missing_secret_stops_plan_and_deploy_until_fargo_secrets_set_stores_it(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    service = "secrets: { API_KEY: 'secretsmanager:fargo/shop/default/API_KEY' }\n"
    manifest = write(tmp_path, service=service)
    f = ["-f", str(manifest)]

    shown = fargo("plan", *f, endpoint=emulator_endpoint)
    assert shown.returncode == 2, shown.stderr
    assert "pre-flight check failed: secret:API_KEY" in shown.stderr
    assert "secretsmanager:fargo/shop/default/API_KEY: no such secret" in shown.stderr
    assert "hint: store it: fargo secrets set API_KEY" in shown.stderr
    as_json = fargo("plan", *f, "--json", endpoint=emulator_endpoint)
    assert as_json.returncode == 2
    body = json.loads(as_json.stdout)
    assert checks_of(body)["secret:API_KEY"]["status"] == "FAILED"
    assert body["exit_code"] == 2

    refused = fargo("deploy", *f, endpoint=emulator_endpoint)
    assert refused.returncode == 2
    assert "secret:API_KEY" in refused.stderr
    assert absent(aws, STACKS)

    stored = fargo("secrets", "set", "API_KEY", *f, endpoint=emulator_endpoint, stdin=VALUE + "\n")
    assert stored.returncode == 0, stored.stderr
    assert "API_KEY: created fargo/shop/default/API_KEY" in stored.stdout
    assert "secretsmanager:fargo/shop/default/API_KEY" in stored.stdout
    secretsmanager = aws("secretsmanager")
    held = secretsmanager.get_secret_value(SecretId="fargo/shop/default/API_KEY")
    assert held["SecretString"] == VALUE
    tags = secretsmanager.describe_secret(SecretId="fargo/shop/default/API_KEY")["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"fargo:app": "shop", "fargo:env": "default"}

    shown = fargo("plan", *f, endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stderr
    assert "OK      secret:API_KEY  secretsmanager:fargo/shop/default/API_KEY: exists" in (
        shown.stdout
    )

    again = fargo("secrets", "set", "API_KEY", *f, endpoint=emulator_endpoint, stdin="rotated")
    assert "API_KEY: updated" in again.stdout
    assert secretsmanager.get_secret_value(SecretId="fargo/shop/default/API_KEY")[
        "SecretString"
    ] == ("rotated")
    for run in (shown, stored, again):
        assert VALUE not in run.stdout + run.stderr
        assert "rotated" not in run.stdout + run.stderr


def test_secrets_list_shows_names_and_dates_and_delete_needs_confirmation(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = write(tmp_path, "environments: { prod: {} }\n")
    f = ["-f", str(manifest)]
    for name in ("STRIPE_KEY", "SMTP_PASSWORD"):
        done = fargo("secrets", "set", name, *f, endpoint=emulator_endpoint, stdin=VALUE)
        assert done.returncode == 0, done.stderr
    # Another environment's secret is not this one's.
    other = fargo(
        "secrets", "set", "STRIPE_KEY", *f, "--env", "prod", endpoint=emulator_endpoint, stdin="x"
    )
    assert other.returncode == 0, other.stderr

    listed = fargo("secrets", "list", *f, endpoint=emulator_endpoint)
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0].split() == ["NAME", "CREATED", "CHANGED"]
    assert [r.split()[0] for r in rows[1:]] == ["SMTP_PASSWORD", "STRIPE_KEY"]
    as_json = json.loads(fargo("secrets", "list", *f, "--json", endpoint=emulator_endpoint).stdout)
    assert as_json["prefix"] == "fargo/shop/default/"
    assert [s["reference"] for s in as_json["secrets"]] == [
        "secretsmanager:fargo/shop/default/SMTP_PASSWORD",
        "secretsmanager:fargo/shop/default/STRIPE_KEY",
    ]
    assert all(s["created"] for s in as_json["secrets"])
    assert VALUE not in listed.stdout + json.dumps(as_json)

    unconfirmed = fargo("secrets", "delete", "STRIPE_KEY", *f, endpoint=emulator_endpoint)
    assert unconfirmed.returncode == 3
    assert "--yes" in unconfirmed.stderr

    deleted = fargo("secrets", "delete", "STRIPE_KEY", *f, "--yes", endpoint=emulator_endpoint)
    assert deleted.returncode == 0, deleted.stderr
    assert "scheduled for deletion" in deleted.stdout
    assert "restore-secret --secret-id fargo/shop/default/STRIPE_KEY" in deleted.stdout
    described = aws("secretsmanager").describe_secret(SecretId="fargo/shop/default/STRIPE_KEY")
    assert described.get("DeletedDate") is not None
    listed = fargo("secrets", "list", *f, "--json", endpoint=emulator_endpoint)
    assert [s["name"] for s in json.loads(listed.stdout)["secrets"]] == ["SMTP_PASSWORD"]

    forced = fargo(
        "secrets", "delete", "SMTP_PASSWORD", *f, "--yes", "--force", endpoint=emulator_endpoint
    )
    assert forced.returncode == 0, forced.stderr
    assert "deleted fargo/shop/default/SMTP_PASSWORD at once" in forced.stdout
    with pytest.raises(ClientError):
        aws("secretsmanager").describe_secret(SecretId="fargo/shop/default/SMTP_PASSWORD")

    gone = fargo("secrets", "delete", "NOPE", *f, "--yes", endpoint=emulator_endpoint)
    assert gone.returncode == 2
    assert "no secret NOPE for shop (default)" in gone.stderr


def test_ssm_parameters_and_json_keys_are_checked_without_printing_a_value(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    aws("ssm").put_parameter(Name="/shop/db-url", Value=VALUE, Type="SecureString")
    aws("secretsmanager").create_secret(
        Name="shop/creds", SecretString=json.dumps({"user": "api", "token": VALUE})
    )
    service = """\
    secrets:
      DB_URL: ssm:/shop/db-url
      MISSING_PARAM: ssm:/shop/not-there
      TOKEN: secretsmanager:shop/creds:token
      PASSWORD: secretsmanager:shop/creds:password
    """
    manifest = write(tmp_path, service=service)

    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 2
    checks = checks_of(json.loads(shown.stdout))
    assert {name: c["status"] for name, c in checks.items() if name.startswith("secret:")} == {
        "secret:DB_URL": "OK",
        "secret:MISSING_PARAM": "FAILED",
        "secret:TOKEN": "OK",
        "secret:PASSWORD": "FAILED",
    }
    assert checks["secret:MISSING_PARAM"]["detail"] == "ssm:/shop/not-there: no such parameter"
    assert "no JSON key password (its keys: token, user)" in checks["secret:PASSWORD"]["detail"]
    assert VALUE not in shown.stdout + shown.stderr


def test_a_missing_hosted_zone_stops_deploy_before_a_certificate_is_requested(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = write(tmp_path, "domain: { name: shop.example.com, dns: route53 }\n")
    f = ["-f", str(manifest)]

    shown = fargo("plan", *f, endpoint=emulator_endpoint)
    assert shown.returncode == 2
    assert "pre-flight check failed: dns-zone" in shown.stderr
    assert "route53: no public hosted zone named shop.example.com" in shown.stderr

    refused = fargo("deploy", *f, endpoint=emulator_endpoint)
    assert refused.returncode == 2
    assert "dns-zone" in refused.stderr
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []
    assert absent(aws, STACKS)

    aws("route53").create_hosted_zone(Name="shop.example.com", CallerReference="preflight")
    shown = fargo("plan", *f, "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert checks_of(json.loads(shown.stdout))["dns-zone"]["status"] == "OK"


def test_plan_without_dns_credentials_marks_dns_not_checked_and_deploy_refuses(
    tmp_path: Path, emulator_endpoint: str, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FARGO_POWERDNS_URL", "FARGO_POWERDNS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    manifest = write(tmp_path, "domain: { name: shop.example.test, dns: powerdns }\n")
    f = ["-f", str(manifest)]

    shown = fargo("plan", *f, endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stderr
    unset = "FARGO_POWERDNS_URL and FARGO_POWERDNS_API_KEY"
    assert f"SKIPPED dns-zone  not checked: {unset} are not set" in shown.stdout
    # The rest of the plan is there: the stacks and the certificate deploy would request.
    assert "shop-default-network: create" in shown.stdout
    assert "+ certificate (regional) for api.shop.example.test" in shown.stdout

    refused = fargo("deploy", *f, endpoint=emulator_endpoint)
    assert refused.returncode == 2
    assert f"dns-zone: zone shop.example.test at powerdns: {unset} are not set" in refused.stderr
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []
    assert absent(aws, STACKS)


def test_a_zone_powerdns_lacks_fails_and_one_it_serves_passes(
    tmp_path: Path,
    emulator_endpoint: str,
    aws: Any,
    pdns: PowerDns,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FARGO_POWERDNS_URL", pdns.api_url)
    monkeypatch.setenv("FARGO_POWERDNS_API_KEY", pdns.api_key)
    manifest = write(tmp_path, "domain: { name: preflight.example.test, dns: powerdns }\n")

    refused = fargo("deploy", "-f", str(manifest), endpoint=emulator_endpoint)
    assert refused.returncode == 2
    assert "has no zone preflight.example.test" in refused.stderr
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []

    pdns.create_zone("preflight.example.test")
    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    check = checks_of(json.loads(shown.stdout))["dns-zone"]
    assert check["status"] == "OK"
    assert check["detail"] == "zone preflight.example.test at powerdns: found"


def test_a_missing_or_disabled_distribution_stops_plan_and_deploy(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = write(tmp_path, "cdn: { existing: E0NOSUCHDIST00 }\n")
    f = ["-f", str(manifest)]

    shown = fargo("plan", *f, endpoint=emulator_endpoint)
    assert shown.returncode == 2
    assert "cdn-distribution: CloudFront distribution E0NOSUCHDIST00: no such" in shown.stderr
    refused = fargo("deploy", *f, endpoint=emulator_endpoint)
    assert refused.returncode == 2
    assert "cdn-distribution" in refused.stderr
    assert absent(aws, STACKS)

    config = load("bare") | {"Enabled": False}
    disabled = aws("cloudfront").create_distribution(DistributionConfig=config)
    edit(manifest, "E0NOSUCHDIST00", disabled["Distribution"]["Id"])
    shown = fargo("plan", *f, "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 2
    check = checks_of(json.loads(shown.stdout))["cdn-distribution"]
    assert check["status"] == "FAILED"
    assert check["detail"].endswith("disabled, so it serves nothing")


def test_spa_error_pages_are_a_warning_in_plan_json(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    spa = {
        "Quantity": 2,
        "Items": [
            {"ErrorCode": code, "ResponsePagePath": "/index.html", "ResponseCode": "200"}
            for code in (403, 404)
        ],
    }
    config = load("bare") | {"CustomErrorResponses": spa}
    created = aws("cloudfront").create_distribution(DistributionConfig=config)
    distribution = created["Distribution"]["Id"]
    manifest = write(tmp_path, f"cdn: {{ existing: {distribution}, path: /api/* }}\n")

    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    body = json.loads(shown.stdout)
    assert checks_of(body)["cdn-distribution"]["status"] == "OK"
    (warning,) = body["warnings"]
    assert warning["code"] == "cdn-error-pages"
    assert "403 with /index.html (status 200)" in warning["message"]

    text = fargo("plan", "-f", str(manifest), endpoint=emulator_endpoint)
    assert "warning [cdn-error-pages]: distribution" in text.stdout

    # With `spa_errors: function` deploy moves those pages off /api/*: no warning.
    edit(manifest, "path: /api/* }", "path: /api/*, spa_errors: function }")
    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["warnings"] == []


def test_a_404_page_that_spa_errors_does_not_move_is_still_a_warning(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    pages = {
        "Quantity": 2,
        "Items": [
            # The single-page app's routing, which the function takes over...
            {"ErrorCode": 403, "ResponsePagePath": "/index.html", "ResponseCode": "200"},
            # ...and a 404 page that keeps its status: it stays, and still replaces the
            # body of every API 404.
            {"ErrorCode": 404, "ResponsePagePath": "/404.html", "ResponseCode": "404"},
        ],
    }
    config = load("bare") | {"CustomErrorResponses": pages}
    created = aws("cloudfront").create_distribution(DistributionConfig=config)
    distribution = created["Distribution"]["Id"]
    cdn = f"cdn: {{ existing: {distribution}, path: /api/*, spa_errors: function }}\n"
    manifest = write(tmp_path, cdn)

    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    (warning,) = json.loads(shown.stdout)["warnings"]
    assert warning["code"] == "cdn-error-pages"
    assert "404 with /404.html (status 404)" in warning["message"]
    assert "403 with" not in warning["message"]


def test_an_ecr_image_not_pushed_yet_is_a_warning_not_a_failure(
    tmp_path: Path, emulator_endpoint: str, aws: Any, account: str
) -> None:
    image = f"{account}.dkr.ecr.us-east-1.amazonaws.com/shop/api:v7"
    manifest = write(tmp_path, image=image)

    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    body = json.loads(shown.stdout)
    check = checks_of(body)["image:api"]
    assert check["status"] == "WARN"
    assert check["detail"] == f"{image}: repository shop/api does not exist"
    assert [w["code"] for w in body["warnings"]] == ["image-not-found"]

    aws("ecr").create_repository(repositoryName="shop/api")
    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    check = checks_of(json.loads(shown.stdout))["image:api"]
    assert check == {
        "name": "image:api",
        "status": "WARN",
        "detail": f"{image}: shop/api has no image v7",
        "hint": None,
    }

    manifest_json = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST},
        "layers": [],
    }
    aws("ecr").put_image(
        repositoryName="shop/api", imageManifest=json.dumps(manifest_json), imageTag="v7"
    )
    shown = fargo("plan", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    body = json.loads(shown.stdout)
    assert checks_of(body)["image:api"]["status"] == "OK"
    assert body["warnings"] == []

    other = write(tmp_path, image="111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/api:v7")
    shown = fargo("plan", "-f", str(other), "--json", endpoint=emulator_endpoint)
    assert checks_of(json.loads(shown.stdout))["image:api"]["status"] == "SKIPPED"


def test_a_failing_check_on_a_deployed_app_leaves_its_stacks_as_they_were(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    manifest = write(tmp_path)
    done = fargo("deploy", "-f", str(manifest), endpoint=emulator_endpoint)
    assert done.returncode == 0, done.stderr
    before = last_updated(aws, STACKS)

    edit(manifest, "    http:", "    secrets: { TOKEN: 'ssm:/shop/token' }\n    http:")
    refused = fargo("deploy", "-f", str(manifest), endpoint=emulator_endpoint)
    assert refused.returncode == 2
    assert "secret:TOKEN: ssm:/shop/token: no such parameter" in refused.stderr
    assert last_updated(aws, STACKS) == before


def test_a_missing_secret_and_distribution_stop_a_domain_deploy_before_its_certificate(
    tmp_path: Path,
    emulator_endpoint: str,
    aws: Any,
    pdns: PowerDns,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The zone is there, so without the checks deploy would request the certificate first.
    monkeypatch.setenv("FARGO_POWERDNS_URL", pdns.api_url)
    monkeypatch.setenv("FARGO_POWERDNS_API_KEY", pdns.api_key)
    pdns.create_zone("certless.example.test")
    edge = """\
    domain: { name: certless.example.test, dns: powerdns }
    cdn: { existing: E0NOSUCHDIST00 }
    """
    service = "secrets: { TOKEN: 'secretsmanager:fargo/shop/default/TOKEN' }\n"
    manifest = write(tmp_path, edge, service=service)

    refused = fargo("deploy", "-f", str(manifest), "--json", endpoint=emulator_endpoint)
    assert refused.returncode == 2
    body = json.loads(refused.stdout)
    assert body["message"] == (
        "pre-flight checks failed: secret:TOKEN, cdn-distribution; nothing was changed"
    )
    statuses = {c["name"]: c["status"] for c in body["checks"]}
    assert statuses == {
        "dns-zone": "OK",
        "secret:TOKEN": "FAILED",
        "cdn-distribution": "FAILED",
        "image:api": "SKIPPED",
        "bootstrap": "OK",
    }
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []
    assert absent(aws, STACKS)
