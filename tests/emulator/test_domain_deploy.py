"""`domain: { dns: powerdns }` end to end: the certificate is validated through a real PowerDNS,
the API host and SES's records are served by it, no template holds a Route 53 resource, a
redeploy writes nothing, and destroy removes only fargo's records."""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import deployer, run_fargo, stack_outputs
from tests.integration.powerdns import PowerDns
from tests.integration.test_dns_powerdns import by_hand, served

_zones = itertools.count()

MANIFEST = """\
app: shop
services:
  api:
    image: public.ecr.aws/docker/library/nginx:1.27
    port: 8000
    http: { path: /*, healthcheck: /health }
mail: { domain: ZONE, from: no-reply@ZONE }
domain: { name: ZONE, dns: powerdns }
"""


@pytest.fixture
def zone(pdns: PowerDns, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"shop{next(_zones)}.example.test"
    pdns.create_zone(name)
    monkeypatch.setenv("FARGO_POWERDNS_URL", pdns.api_url)
    monkeypatch.setenv("FARGO_POWERDNS_API_KEY", pdns.api_key)
    return name


@pytest.fixture
def manifest(tmp_path: Path, zone: str) -> Path:
    path = tmp_path / "fargo.yml"
    path.write_text(textwrap.dedent(MANIFEST).replace("ZONE", zone))
    return path


def test_no_template_has_a_route53_resource(manifest: Path, tmp_path: Path) -> None:
    rendered = run_fargo("render", "-f", str(manifest), "--out", str(tmp_path / "out"))
    assert rendered.returncode == 0, rendered.stderr
    types = {
        resource["Type"]
        for path in (tmp_path / "out").rglob("*.json")
        for resource in json.loads(path.read_text())["Resources"].values()
    }
    assert "AWS::ElasticLoadBalancingV2::Listener" in types
    assert not [t for t in types if t.startswith("AWS::Route53::")]


def test_records_and_certificate_validation_are_served_by_powerdns(
    manifest: Path, zone: str, pdns: PowerDns, emulator_endpoint: str, aws: Any
) -> None:

    # A record of the user's own at a name fargo writes too: it must survive.
    by_hand(pdns, zone, f"mail.{zone}", "TXT", ['"google-site-verification=abc"'])

    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr
    assert pdns.api_key not in done.stdout + done.stderr

    network = stack_outputs(aws, "shop-default-network")
    assert served(pdns, f"api.{zone}", "CNAME") == [f"{network['LoadBalancerDnsName']}."]

    acm = aws("acm")
    (summary,) = acm.list_certificates()["CertificateSummaryList"]
    certificate = acm.describe_certificate(CertificateArn=summary["CertificateArn"])["Certificate"]
    assert certificate["DomainName"] == f"api.{zone}"
    assert certificate["Status"] == "ISSUED"
    for option in certificate["DomainValidationOptions"]:
        record = option["ResourceRecord"]
        assert served(pdns, record["Name"].rstrip("."), "CNAME") == [
            record["Value"].rstrip(".") + "."
        ]
    (https,) = [
        listener
        for listener in aws("elbv2").describe_listeners(LoadBalancerArn=network["LoadBalancerArn"])[
            "Listeners"
        ]
        if listener["Port"] == 443
    ]
    assert https["Certificates"][0]["CertificateArn"] == summary["CertificateArn"]

    data = stack_outputs(aws, "shop-default-data")
    for index in (1, 2, 3):
        name = data[f"MailDkim{index}Name"]
        assert served(pdns, name, "CNAME") == [data[f"MailDkim{index}Value"] + "."]
    assert served(pdns, f"mail.{zone}", "MX") == ["10 feedback-smtp.us-east-1.amazonses.com."]
    assert served(pdns, f"mail.{zone}", "TXT") == sorted(
        ["google-site-verification=abc", "v=spf1 include:amazonses.com ~all"]
    )

    status = run_fargo("status", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    # fargo wrote them, so none is left for the user to publish; the ledger lists them.
    assert report["dns_records"] == []
    assert report["edge"]["certificates"] == {"regional": summary["CertificateArn"]}
    written = {(r["type"], r["name"]) for r in report["edge"]["records"]}
    assert {("CNAME", f"api.{zone}"), ("MX", f"mail.{zone}"), ("TXT", f"mail.{zone}")} <= written

    _, again = deployer(manifest, emulator_endpoint).deploy()
    assert again.edge == ()
    assert not again.changed

    gone = run_fargo("destroy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--yes")
    assert gone.returncode == 0, gone.stderr
    assert served(pdns, f"api.{zone}", "CNAME") == []
    assert served(pdns, f"mail.{zone}", "MX") == []
    assert served(pdns, f"mail.{zone}", "TXT") == ["google-site-verification=abc"]
    for option in certificate["DomainValidationOptions"]:
        assert served(pdns, option["ResourceRecord"]["Name"].rstrip("."), "CNAME") == []
    assert acm.list_certificates()["CertificateSummaryList"] == []


SITE_MANIFEST = """\
app: site
services:
  api:
    image: public.ecr.aws/docker/library/nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
domain: { name: ZONE, dns: powerdns }
cdn: { static: ./dist }
"""


def test_static_site_with_a_domain(
    zone: str, pdns: PowerDns, emulator_endpoint: str, aws: Any, tmp_path: Path
) -> None:
    """The site's certificate is CloudFront's (us-east-1), the site host points at the
    distribution, and deploy itself uploads the files with their content types."""
    (tmp_path / "fargo.yml").write_text(SITE_MANIFEST.replace("ZONE", zone))
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>site</title>")

    done = run_fargo(
        "deploy", "-f", str(tmp_path / "fargo.yml"), "--endpoint-url", emulator_endpoint
    )
    assert done.returncode == 0, done.stderr
    assert "edge: site: uploaded index.html" in done.stdout

    edge = stack_outputs(aws, "site-default-edge")
    assert served(pdns, f"www.{zone}", "CNAME") == [edge["DistributionDomainName"] + "."]
    assert served(pdns, f"api.{zone}", "CNAME") == [
        stack_outputs(aws, "site-default-network")["LoadBalancerDnsName"] + "."
    ]
    config = aws("cloudfront").get_distribution_config(Id=edge["DistributionId"])[
        "DistributionConfig"
    ]
    assert config["Aliases"]["Items"] == [f"www.{zone}"]
    site_certificate = config["ViewerCertificate"]["ACMCertificateArn"]
    assert site_certificate.startswith("arn:aws:acm:us-east-1:")
    described = aws("acm").describe_certificate(CertificateArn=site_certificate)["Certificate"]
    assert described["DomainName"] == f"www.{zone}"
    (api,) = [o for o in config["Origins"]["Items"] if o["Id"] == "fargo-site-default-api"]
    assert api["DomainName"] == f"api.{zone}"
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"

    page = aws("s3").head_object(Bucket=edge["SiteBucketName"], Key="index.html")
    assert page["ContentType"].startswith("text/html")
    assert f"site: https://www.{zone}/" in done.stdout

    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>site 2</title>")
    shown = run_fargo(
        "plan", "-f", str(tmp_path / "fargo.yml"), "--endpoint-url", emulator_endpoint
    )
    assert shown.returncode == 0, shown.stderr
    assert "+ site: upload index.html" in shown.stdout
    assert "~ site: invalidate /index.html" in shown.stdout
    # plan changes nothing: the stored page is still the first one.
    after = aws("s3").head_object(Bucket=edge["SiteBucketName"], Key="index.html")
    assert after["ETag"] == page["ETag"]
