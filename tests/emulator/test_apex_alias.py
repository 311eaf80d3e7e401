"""A static site at the zone's apex, end to end: Route 53 answers it with A and AAAA aliases
to the distribution and the API host with an A alias to the load balancer; PowerDNS with
an ALIAS when it may serve one, and a deploy is refused before anything is written when it
may not."""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import deployer, run_fargo, stack_outputs
from tests.integration.powerdns import PowerDns

# AWS's AliasTarget reference: the hosted zone of every CloudFront distribution.
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
LEDGER = "/fargo/site/default/edge"
_zones = itertools.count()

MANIFEST = """\
app: site
services:
  api:
    image: public.ecr.aws/docker/library/nginx:1.27
    port: 8000
    http: { path: /api/*, healthcheck: /api/health }
domain: { name: ZONE, site: ZONE, dns: DNS }
cdn: { static: ./dist }
"""


def project(tmp_path: Path, zone: str, dns: str) -> Path:
    manifest = tmp_path / "fargo.yml"
    manifest.write_text(MANIFEST.replace("ZONE", zone).replace("DNS", dns))
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>site</title>")
    return manifest


def record_sets(aws: Any, zone_id: str, name: str) -> dict[str, dict[str, Any]]:
    listed = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {r["Type"]: r for r in listed if r["Name"] == f"{name}."}


def test_route53_answers_the_apex_and_the_api_with_aliases(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    zone = "example.com"
    zone_id = aws("route53").create_hosted_zone(Name=zone, CallerReference=str(uuid.uuid4()))[
        "HostedZone"
    ]["Id"]
    manifest = project(tmp_path, zone, "route53")

    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr

    edge = stack_outputs(aws, "site-default-edge")
    distribution = aws("cloudfront").get_distribution(Id=edge["DistributionId"])["Distribution"]
    assert distribution["DistributionConfig"]["IsIPV6Enabled"] is True
    apex = record_sets(aws, zone_id, zone)
    # IPv6 is on at the distribution: an AAAA alias beside the A, and no CNAME at the apex.
    assert sorted(t for t in apex if t in ("A", "AAAA", "CNAME")) == ["A", "AAAA"]
    for family in ("A", "AAAA"):
        assert apex[family]["AliasTarget"] == {
            "HostedZoneId": CLOUDFRONT_ZONE,
            "DNSName": f"{distribution['DomainName']}.",
            "EvaluateTargetHealth": False,
        }

    network = stack_outputs(aws, "site-default-network")
    (balancer,) = aws("elbv2").describe_load_balancers(
        LoadBalancerArns=[network["LoadBalancerArn"]]
    )["LoadBalancers"]
    api = record_sets(aws, zone_id, f"api.{zone}")
    # Route 53 prefers an alias for an AWS target below the apex too; the load balancer
    # is IPv4 only, so no AAAA.
    assert sorted(api) == ["A"]
    assert api["A"]["AliasTarget"] == {
        "HostedZoneId": balancer["CanonicalHostedZoneId"],
        "DNSName": f"{balancer['DNSName'].lower()}.",
        "EvaluateTargetHealth": False,
    }

    _, again = deployer(manifest, emulator_endpoint).deploy()
    assert not [line for line in again.edge if line.startswith("DNS ")]

    gone = run_fargo("destroy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--yes")
    assert gone.returncode == 0, gone.stderr
    assert not {"A", "AAAA"} & record_sets(aws, zone_id, zone).keys()
    assert record_sets(aws, zone_id, f"api.{zone}") == {}


@pytest.fixture
def powerdns_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    def point_at(server: PowerDns) -> str:
        zone = f"site{next(_zones)}.example.test"
        server.create_zone(zone)
        monkeypatch.setenv("FARGO_POWERDNS_URL", server.api_url)
        monkeypatch.setenv("FARGO_POWERDNS_API_KEY", server.api_key)
        return zone

    return point_at


def rrsets(server: PowerDns, zone: str) -> list[dict[str, Any]]:
    with server.api() as api:
        return list(api.get(f"/zones/{zone}.").json()["rrsets"])


def test_powerdns_that_serves_alias_gets_one_at_the_apex(
    pdns_alias: PowerDns, powerdns_env: Any, tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    zone = powerdns_env(pdns_alias)
    manifest = project(tmp_path, zone, "powerdns")

    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)
    assert done.returncode == 0, done.stderr

    edge = stack_outputs(aws, "site-default-edge")
    held = {(r["name"], r["type"]): r for r in rrsets(pdns_alias, zone)}
    assert [r["content"] for r in held[(f"{zone}.", "ALIAS")]["records"]] == [
        f"{edge['DistributionDomainName']}."
    ]
    # Below the apex a CNAME still does.
    network = stack_outputs(aws, "site-default-network")
    assert [r["content"] for r in held[(f"api.{zone}.", "CNAME")]["records"]] == [
        f"{network['LoadBalancerDnsName']}."
    ]

    gone = run_fargo("destroy", "-f", str(manifest), "--endpoint-url", emulator_endpoint, "--yes")
    assert gone.returncode == 0, gone.stderr
    assert not [r for r in rrsets(pdns_alias, zone) if r["type"] == "ALIAS"]


def test_powerdns_that_would_not_serve_alias_refuses_before_anything_is_written(
    pdns: PowerDns, powerdns_env: Any, tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    zone = powerdns_env(pdns)
    manifest = project(tmp_path, zone, "powerdns")
    before = rrsets(pdns, zone)

    done = run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint)

    assert done.returncode == 2, done.stdout + done.stderr
    assert zone in done.stderr
    assert "expand-alias=yes" in done.stderr
    assert f"www.{zone}" in done.stderr
    assert rrsets(pdns, zone) == before
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []
    assert aws("cloudformation").list_stacks()["StackSummaries"] == []


def test_route53_turns_an_earlier_deploys_cname_into_an_alias(
    tmp_path: Path, emulator_endpoint: str, aws: Any
) -> None:
    """A deploy by an earlier fargo left `api` as a CNAME to the load balancer: the CNAME
    goes first (a name holding a CNAME holds nothing else), then the alias is written."""
    zone = "example.org"
    zone_id = aws("route53").create_hosted_zone(Name=zone, CallerReference=str(uuid.uuid4()))[
        "HostedZone"
    ]["Id"]
    manifest = project(tmp_path, zone, "route53")
    assert (
        run_fargo("deploy", "-f", str(manifest), "--endpoint-url", emulator_endpoint).returncode
        == 0
    )
    balancer = stack_outputs(aws, "site-default-network")["LoadBalancerDnsName"]
    api = f"api.{zone}"
    # What the earlier fargo wrote, in the zone and in its ledger.
    alias = record_sets(aws, zone_id, api)["A"]
    aws("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "DELETE", "ResourceRecordSet": alias},
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"{api}.",
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": f"{balancer}."}],
                    },
                },
            ]
        },
    )
    ssm = aws("ssm")
    ledger = json.loads(ssm.get_parameter(Name=LEDGER)["Parameter"]["Value"])
    ledger["records"] = [r for r in ledger["records"] if r["name"] != api] + [
        {"name": api, "type": "CNAME", "value": balancer.lower(), "ttl": 300}
    ]
    ssm.put_parameter(Name=LEDGER, Value=json.dumps(ledger), Type="String", Overwrite=True)

    _, again = deployer(manifest, emulator_endpoint).deploy()

    assert f"DNS {api} CNAME {balancer.lower()} removed" in again.edge
    held = record_sets(aws, zone_id, api)
    assert sorted(held) == ["A"]
    assert held["A"]["AliasTarget"]["DNSName"] == f"{balancer.lower()}."
