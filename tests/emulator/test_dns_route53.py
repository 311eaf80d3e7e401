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
