"""ACM certificates on the emulator: requested, validated through DNS records written at a
provider, issued, and found again on the next run without a new request."""

from __future__ import annotations

import time
from typing import Any

import pytest

from fargo.aws.facade import Aws, AwsConfig, CallCounter
from fargo.edge.certificates import (
    delete_certificate,
    ensure_certificate,
    find_certificates,
    validation_records,
)
from fargo.edge.dns.records import DnsRecord
from fargo.local.patches.acm import ISSUE_AFTER_SECONDS
from tests.unit.memory_dns import MemoryDns

NAMES = ["api.example.com", "example.com"]
TAGS = {"fargo:app": "shop", "fargo:env": "prod", "fargo:scope": "regional", "team": "web"}


@pytest.fixture
def fargo_aws(emulator_endpoint: str, account: str) -> Aws:
    """fargo's facade on the same emulator account as the `aws` fixture's clients."""
    config = AwsConfig(
        region="us-east-1",
        endpoint_url=emulator_endpoint,
        static_credentials=(account, "test"),
        retry_mode="standard",
        max_attempts=3,
    )
    return Aws(config, counter=CallCounter())


def ensure(aws: Aws, dns: MemoryDns, names: list[str] = NAMES, **tags: str) -> str:
    return ensure_certificate(
        aws,
        names=names,
        zone="example.com",
        dns=dns,
        tags={**TAGS, **tags},
        poll_seconds=0.05,
        timeout_seconds=30,
    )


def requests_made(aws: Aws) -> int:
    return aws.counter.calls[("acm", "RequestCertificate")]


def test_requested_validated_through_dns_issued_then_reused(fargo_aws: Aws, aws: Any) -> None:
    dns = MemoryDns()

    arn = ensure(fargo_aws, dns)

    acm = aws("acm")
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert described["Status"] == "ISSUED"
    assert described["DomainName"] == "api.example.com"
    assert set(described["SubjectAlternativeNames"]) == set(NAMES)
    held = {t["Key"]: t["Value"] for t in acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]}
    assert held == TAGS
    # The CNAMEs ACM asked for are the ones written at the provider, one per name.
    asked = {
        DnsRecord(o["ResourceRecord"]["Name"], "CNAME", o["ResourceRecord"]["Value"])
        for o in described["DomainValidationOptions"]
    }
    assert len(asked) == 2
    written = {r for records in dns.held.values() for r in records}
    assert {(r.name, r.value) for r in written} == {(r.name, r.value) for r in asked}
    assert {(r.name, r.value) for r in validation_records(fargo_aws, arn)} == {
        (r.name, r.value) for r in asked
    }
    assert all(r.name.endswith(tuple("." + n for n in NAMES)) for r in written)
    assert requests_made(fargo_aws) == 1
    writes_before = dns.writes

    again = CallCounter()
    fargo_aws.counter = again
    assert ensure(fargo_aws, dns) == arn

    assert requests_made(fargo_aws) == 0
    assert again.writes == []  # nothing at all was written to AWS
    assert dns.writes == writes_before


def test_a_pending_certificate_of_an_interrupted_run_is_picked_up(fargo_aws: Aws, aws: Any) -> None:
    """A run stopped while waiting left a PENDING_VALIDATION certificate with fargo's tags:
    the next run writes its records and waits for it, rather than request another."""
    acm = aws("acm")
    left = acm.request_certificate(
        DomainName=NAMES[0],
        SubjectAlternativeNames=NAMES,
        ValidationMethod="DNS",
        Tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
    )["CertificateArn"]
    # Listed, not described: the emulator's ACM issues a second after it reported records.
    pending = acm.list_certificates(CertificateStatuses=["PENDING_VALIDATION"])
    assert [c["CertificateArn"] for c in pending["CertificateSummaryList"]] == [left]
    dns = MemoryDns()

    assert ensure(fargo_aws, dns) == left

    assert requests_made(fargo_aws) == 0
    assert dns.writes == 1
    assert acm.describe_certificate(CertificateArn=left)["Certificate"]["Status"] == "ISSUED"


def test_other_names_or_another_scope_get_their_own_certificate(fargo_aws: Aws) -> None:
    dns = MemoryDns()
    regional = ensure(fargo_aws, dns)
    fewer = ensure(fargo_aws, dns, names=["api.example.com"])
    cloudfront = ensure(fargo_aws, dns, **{"fargo:scope": "cloudfront"})
    other_env = ensure(fargo_aws, dns, **{"fargo:env": "staging"})

    assert len({regional, fewer, cloudfront, other_env}) == 4
    assert requests_made(fargo_aws) == 4
    assert set(find_certificates(fargo_aws, {"fargo:app": "shop", "fargo:env": "prod"})) == {
        regional,
        fewer,
        cloudfront,
    }


def test_each_certificate_gets_its_own_validation_records(aws: Any) -> None:
    """The emulator's ACM: pending with ACM-shaped CNAMEs until a second after it first
    reported them, then issued; a wildcard shares its base name's record."""
    acm = aws("acm")
    arns = [
        acm.request_certificate(
            DomainName="example.com",
            SubjectAlternativeNames=["example.com", "*.example.com"],
            ValidationMethod="DNS",
        )["CertificateArn"]
        for _ in range(2)
    ]
    records = []
    for arn in arns:
        certificate = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        # Looked at again at once, within the second: looking twice is not writing the records.
        again = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        assert again["Status"] == "PENDING_VALIDATION"
        assert certificate["Status"] == "PENDING_VALIDATION"
        options = certificate["DomainValidationOptions"]
        assert {o["ValidationStatus"] for o in options} == {"PENDING_VALIDATION"}
        (record,) = {(o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"]) for o in options}
        assert record[0].startswith("_")
        assert record[0].endswith(".example.com.")
        assert record[1].endswith(".acm-validations.aws.")
        records.append(record)
    assert records[0] != records[1]
    time.sleep(ISSUE_AFTER_SECONDS)
    second = acm.describe_certificate(CertificateArn=arns[0])["Certificate"]
    assert second["Status"] == "ISSUED"
    assert {o["ValidationStatus"] for o in second["DomainValidationOptions"]} == {"SUCCESS"}


def test_deleting_a_certificate_nothing_uses(fargo_aws: Aws, aws: Any) -> None:
    arn = ensure(fargo_aws, MemoryDns())

    assert delete_certificate(fargo_aws, arn) is True

    assert find_certificates(fargo_aws, TAGS) == []
    with pytest.raises(aws("acm").exceptions.ResourceNotFoundException):
        aws("acm").describe_certificate(CertificateArn=arn)
    # Gone already (say, deleted by hand): nothing to do, and no records to remove.
    assert delete_certificate(fargo_aws, arn) is True
    assert validation_records(fargo_aws, arn) == []


def test_names_are_compared_in_canonical_form(fargo_aws: Aws) -> None:
    dns = MemoryDns()
    arn = ensure(fargo_aws, dns)
    assert ensure(fargo_aws, dns, names=["API.Example.com.", "example.com"]) == arn
    assert requests_made(fargo_aws) == 1
