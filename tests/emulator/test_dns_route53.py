"""The Route 53 provider against the emulator: fargo writes through its Aws facade, and
boto3 on the same account reads back what the hosted zone holds."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from fargo.aws.facade import Aws, AwsConfig, CallCounter
from fargo.edge.dns.errors import DnsZoneNotFound
from fargo.edge.dns.factory import provider_from_env
from fargo.edge.dns.provider import DnsProvider
from fargo.edge.dns.records import DnsRecord

ZONE = "example.com"
ALB = "dualstack.my-alb-123.us-east-1.elb.amazonaws.com"
SPF = "v=spf1 include:amazonses.com ~all"
MX = "10 feedback-smtp.us-east-1.amazonses.com"
CHANGES = ("route53", "ChangeResourceRecordSets")


@pytest.fixture
def counter() -> CallCounter:
    return CallCounter()


@pytest.fixture
def provider(emulator_endpoint: str, account: str, counter: CallCounter) -> DnsProvider:
    config = AwsConfig(
        region="us-east-1",
        endpoint_url=emulator_endpoint,
        static_credentials=(account, "test"),
        retry_mode="standard",
        max_attempts=3,
    )
    return provider_from_env("route53", {}, Aws(config, counter=counter))


@pytest.fixture
def route53(aws: Any) -> Any:
    """Someone else's client on the same account."""
    return aws("route53")


@pytest.fixture
def zone_id(route53: Any) -> str:
    created = route53.create_hosted_zone(Name=ZONE, CallerReference=str(uuid.uuid4()))
    return str(created["HostedZone"]["Id"])


def held(route53: Any, zone_id: str, name: str, type_: str) -> tuple[int | None, list[str]]:
    """(TTL, values) of the set at name/type, as Route 53 lists it."""
    listed = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    for rrset in listed:
        if rrset["Name"].rstrip(".") == name and rrset["Type"] == type_:
            return int(rrset["TTL"]), sorted(r["Value"] for r in rrset["ResourceRecords"])
    return None, []


def put(route53: Any, zone_id: str, name: str, type_: str, values: list[str]) -> None:
    """A set the user made outside fargo."""
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": type_,
                        "TTL": 3600,
                        "ResourceRecords": [{"Value": v} for v in values],
                    },
                }
            ]
        },
    )


def test_upsert_writes_one_change_batch_and_again_none(
    provider: DnsProvider, route53: Any, zone_id: str, counter: CallCounter
) -> None:
    records = [
        DnsRecord(f"api.{ZONE}", "CNAME", ALB),
        DnsRecord(f"mail.{ZONE}", "TXT", SPF),
        DnsRecord(f"mail.{ZONE}", "MX", MX),
    ]

    assert provider.upsert(ZONE, records) == records

    assert held(route53, zone_id, f"api.{ZONE}", "CNAME") == (300, [f"{ALB}."])
    assert held(route53, zone_id, f"mail.{ZONE}", "TXT") == (300, [f'"{SPF}"'])
    assert held(route53, zone_id, f"mail.{ZONE}", "MX") == (300, [f"{MX}."])
    assert counter.calls[CHANGES] == 1

    assert provider.upsert(ZONE, records) == []
    assert counter.calls[CHANGES] == 1


def test_txt_values_coexist_and_delete_removes_only_fargos(
    provider: DnsProvider, route53: Any, zone_id: str, counter: CallCounter
) -> None:
    name = f"mail.{ZONE}"
    put(route53, zone_id, name, "TXT", ['"google-site-verification=abc123"'])

    provider.upsert(ZONE, [DnsRecord(name, "TXT", SPF)])
    # The user's TTL stays; fargo's value joins the set.
    assert held(route53, zone_id, name, "TXT") == (
        3600,
        sorted(['"google-site-verification=abc123"', f'"{SPF}"']),
    )

    assert [r.value for r in provider.delete(ZONE, [DnsRecord(name, "TXT", SPF)])] == [SPF]

    assert held(route53, zone_id, name, "TXT") == (3600, ['"google-site-verification=abc123"'])
    writes = counter.calls[CHANGES]
    assert provider.delete(ZONE, [DnsRecord(name, "TXT", SPF)]) == []
    assert counter.calls[CHANGES] == writes


def test_delete_removes_a_whole_set_and_leaves_a_changed_one(
    provider: DnsProvider, route53: Any, zone_id: str
) -> None:
    mx = DnsRecord(f"mail.{ZONE}", "MX", MX)
    api = DnsRecord(f"api.{ZONE}", "CNAME", ALB)
    provider.upsert(ZONE, [mx, api])
    put(route53, zone_id, f"api.{ZONE}", "CNAME", ["elsewhere.example.net."])

    assert provider.delete(ZONE, [mx, api]) == [mx]

    assert held(route53, zone_id, f"mail.{ZONE}", "MX") == (None, [])
    assert held(route53, zone_id, f"api.{ZONE}", "CNAME") == (3600, ["elsewhere.example.net."])


def test_a_zone_the_account_does_not_have_is_bad_input(provider: DnsProvider) -> None:
    with pytest.raises(DnsZoneNotFound) as caught:
        provider.upsert("absent.org", [DnsRecord("api.absent.org", "CNAME", ALB)])

    assert caught.value.exit_code == 2
    assert "absent.org" in caught.value.message


# -- aliases -----------------------------------------------------------------------------

CLOUDFRONT = "d111111abcdef8.cloudfront.net"
# AWS's AliasTarget reference: every CloudFront distribution's hosted zone, and the
# us-east-1 Application Load Balancer's.
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
ALB_ZONE = "Z35SXDOTRQ7X7K"


def alias_sets(route53: Any, zone_id: str, name: str) -> dict[str, dict[str, Any]]:
    """The name's A and AAAA sets by type, as Route 53 lists them."""
    listed = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {
        rrset["Type"]: rrset
        for rrset in listed
        if rrset["Name"].rstrip(".") == name and rrset["Type"] in ("A", "AAAA")
    }


def test_an_apex_alias_is_an_a_and_aaaa_alias_to_a_dual_stack_target(
    provider: DnsProvider, route53: Any, zone_id: str, counter: CallCounter
) -> None:
    site = DnsRecord(ZONE, "ALIAS", CLOUDFRONT, target_zone=CLOUDFRONT_ZONE, dual_stack=True)

    assert provider.upsert(ZONE, [site]) == [site]

    sets = alias_sets(route53, zone_id, ZONE)
    assert sorted(sets) == ["A", "AAAA"]
    for rrset in sets.values():
        assert rrset["AliasTarget"] == {
            "HostedZoneId": CLOUDFRONT_ZONE,
            "DNSName": f"{CLOUDFRONT}.",
            "EvaluateTargetHealth": False,
        }
        # An alias set has no TTL and no values of its own.
        assert "TTL" not in rrset
        assert "ResourceRecords" not in rrset or not rrset["ResourceRecords"]
    [read] = provider.records(ZONE, ZONE, "ALIAS")
    assert read.data == (CLOUDFRONT, CLOUDFRONT_ZONE, True)
    writes = counter.calls[CHANGES]
    assert provider.upsert(ZONE, [site]) == []
    assert counter.calls[CHANGES] == writes


def test_an_alias_to_an_ipv4_target_is_an_a_alias_and_takes_the_aaaa_away(
    provider: DnsProvider, route53: Any, zone_id: str
) -> None:
    # IPv6 turned off on the target: the AAAA alias would answer for what no longer listens.
    provider.upsert(
        ZONE, [DnsRecord(ZONE, "ALIAS", CLOUDFRONT, target_zone=CLOUDFRONT_ZONE, dual_stack=True)]
    )
    ipv4 = DnsRecord(ZONE, "ALIAS", CLOUDFRONT, target_zone=CLOUDFRONT_ZONE)

    assert provider.upsert(ZONE, [ipv4]) == [ipv4]

    assert sorted(alias_sets(route53, zone_id, ZONE)) == ["A"]


def test_an_alias_replaces_a_plain_a_set_and_delete_leaves_a_changed_one(
    provider: DnsProvider, route53: Any, zone_id: str
) -> None:
    api = f"api.{ZONE}"
    put(route53, zone_id, api, "A", ["192.0.2.10"])
    alias = DnsRecord(api, "ALIAS", ALB, target_zone=ALB_ZONE)

    provider.upsert(ZONE, [alias])
    assert alias_sets(route53, zone_id, api)["A"]["AliasTarget"]["DNSName"] == f"{ALB}."

    put(route53, zone_id, api, "A", ["192.0.2.20"])  # the user points it elsewhere
    assert provider.delete(ZONE, [alias]) == []
    assert alias_sets(route53, zone_id, api)["A"]["ResourceRecords"] == [{"Value": "192.0.2.20"}]


def test_delete_removes_both_alias_sets(provider: DnsProvider, route53: Any, zone_id: str) -> None:
    site = DnsRecord(ZONE, "ALIAS", CLOUDFRONT, target_zone=CLOUDFRONT_ZONE, dual_stack=True)
    provider.upsert(ZONE, [site])

    # The ledger's copy may say nothing of IPv6: the sets held are what is deleted.
    assert provider.delete(ZONE, [DnsRecord(ZONE, "ALIAS", CLOUDFRONT)]) == [site]

    assert alias_sets(route53, zone_id, ZONE) == {}


def test_route53_refuses_a_cname_beside_another_set_and_takes_a_swap_in_one_batch(
    route53: Any, zone_id: str
) -> None:
    """The emulator holds a CNAME to its name alone, as Route 53 does (RFC 1034 3.6.2)."""
    name = f"www.{ZONE}."
    put(route53, zone_id, name, "CNAME", [f"{CLOUDFRONT}."])
    alias = {
        "Name": name,
        "Type": "A",
        "AliasTarget": {
            "HostedZoneId": CLOUDFRONT_ZONE,
            "DNSName": f"{CLOUDFRONT}.",
            "EvaluateTargetHealth": False,
        },
    }

    with pytest.raises(route53.exceptions.InvalidChangeBatch):
        route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": alias}]},
        )
    assert held(route53, zone_id, f"www.{ZONE}", "CNAME") == (3600, [f"{CLOUDFRONT}."])
    assert alias_sets(route53, zone_id, f"www.{ZONE}") == {}

    cname = {
        "Name": name,
        "Type": "CNAME",
        "TTL": 3600,
        "ResourceRecords": [{"Value": f"{CLOUDFRONT}."}],
    }
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "DELETE", "ResourceRecordSet": cname},
                {"Action": "CREATE", "ResourceRecordSet": alias},
            ]
        },
    )
    assert sorted(alias_sets(route53, zone_id, f"www.{ZONE}")) == ["A"]
    assert held(route53, zone_id, f"www.{ZONE}", "CNAME") == (None, [])
