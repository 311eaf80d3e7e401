"""Certificate flows the emulator cannot produce: validation records that come late, ACM's
FAILED and VALIDATION_TIMED_OUT, and a validation that never finishes. ACM's answers come
from botocore's Stubber, which checks every request against ACM's own API model; the DNS
side is an in-memory provider. The plain flow runs against the emulator
(tests/emulator/test_certificates.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from fargo.aws.facade import Aws
from fargo.edge.certificates import CertificateFailed, ensure_certificate
from fargo.edge.dns.records import DnsRecord
from fargo.errors import EXIT_BAD_INPUT, EXIT_FAILED, InputError
from tests.conftest import Notes
from tests.unit.memory_dns import MemoryDns
from tests.unit.stubbed_aws import FakeTime, stubbed

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
NAMES = ["api.example.com", "example.com"]
TAGS = {"fargo:app": "shop", "fargo:env": "prod", "fargo:scope": "regional", "team": "web"}
REQUEST = {
    "DomainName": "api.example.com",
    "SubjectAlternativeNames": NAMES,
    "ValidationMethod": "DNS",
    "KeyAlgorithm": "RSA_2048",
    "IdempotencyToken": ANY,
    "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
}
RECORDS = {
    "api.example.com": ("_3a1f.api.example.com.", "_9c2e.xyz.acm-validations.aws."),
    "example.com": ("_77b0.example.com.", "_51d4.xyz.acm-validations.aws."),
}


@pytest.fixture
def acm(aws: Aws) -> Iterator[Stubber]:
    with stubbed(aws, "acm") as stubber:
        yield stubber


def certificate(status: str, *, records: bool = True, **extra: Any) -> dict[str, Any]:
    options = []
    for name in NAMES:
        option: dict[str, Any] = {
            "DomainName": name,
            "ValidationMethod": "DNS",
            "ValidationStatus": "PENDING_VALIDATION",
        }
        if records:
            record_name, value = RECORDS[name]
            option["ResourceRecord"] = {"Name": record_name, "Type": "CNAME", "Value": value}
        options.append(option)
    return {
        "Certificate": {
            "CertificateArn": ARN,
            "DomainName": NAMES[0],
            "SubjectAlternativeNames": NAMES,
            "Status": status,
            "DomainValidationOptions": options,
            **extra,
        }
    }


def expect_request(acm: Stubber, listed: list[dict[str, Any]] | None = None) -> None:
    acm.add_response("list_certificates", {"CertificateSummaryList": listed or []})
    acm.add_response("request_certificate", {"CertificateArn": ARN}, REQUEST)


def expect_describe(acm: Stubber, answer: dict[str, Any]) -> None:
    acm.add_response("describe_certificate", answer, {"CertificateArn": ARN})


def ensure(aws: Aws, dns: MemoryDns, notes: Notes | None = None, timeout: float = 600) -> str:
    return ensure_certificate(
        aws,
        names=["API.example.com.", "example.com"],
        zone="example.com",
        dns=dns,
        tags=TAGS,
        reporter=notes,
        poll_seconds=5,
        timeout_seconds=timeout,
    )


def test_records_that_come_late_are_waited_for_then_written(aws: Aws, acm: Stubber) -> None:
    expect_request(acm)
    expect_describe(acm, certificate("PENDING_VALIDATION", records=False))
    expect_describe(acm, certificate("PENDING_VALIDATION"))
    expect_describe(acm, certificate("PENDING_VALIDATION"))
    expect_describe(acm, certificate("ISSUED"))
    dns, notes = MemoryDns(), Notes()

    assert ensure(aws, dns, notes) == ARN

    assert dns.held == {
        ("_3a1f.api.example.com", "CNAME"): [
            DnsRecord("_3a1f.api.example.com", "CNAME", "_9c2e.xyz.acm-validations.aws")
        ],
        ("_77b0.example.com", "CNAME"): [
            DnsRecord("_77b0.example.com", "CNAME", "_51d4.xyz.acm-validations.aws")
        ],
    }
    text = "\n".join(notes.lines)
    assert "requested " + ARN in text
    assert "waiting for ACM's validation records" in text
    assert "validation CNAME _3a1f.api.example.com written at memory" in text
    assert text.endswith("issued")


class Capture:
    """Matches any value in Stubber's expected params, and keeps it."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __eq__(self, other: object) -> bool:
        self.values.append(other)
        return True

    __hash__ = None  # type: ignore[assignment]


def test_a_failed_request_gets_a_new_idempotency_token(aws: Aws, acm: Stubber) -> None:
    """ACM gives back the same certificate for the same token within an hour, failed or
    not: after a failure the next request must carry a new one."""
    tokens = Capture()
    ours = [{"Key": k, "Value": v} for k, v in TAGS.items()]
    for earlier in ([], ["FAILED"]):
        acm.add_response(
            "list_certificates",
            {"CertificateSummaryList": [{"CertificateArn": ARN, "DomainName": NAMES[0]}]}
            if earlier
            else {"CertificateSummaryList": []},
        )
        if earlier:
            acm.add_response("list_tags_for_certificate", {"Tags": ours})
            expect_describe(acm, certificate("FAILED", FailureReason="CAA_ERROR"))
        acm.add_response(
            "request_certificate", {"CertificateArn": ARN}, {**REQUEST, "IdempotencyToken": tokens}
        )
        expect_describe(acm, certificate("ISSUED"))
        assert ensure(aws, MemoryDns()) == ARN

    first, second = tokens.values
    assert first != second
    assert all(len(t) == 32 and t.isalnum() for t in tokens.values)


def test_caa_failure_names_the_certificate_reason_and_fix(aws: Aws, acm: Stubber) -> None:
    expect_request(acm)
    expect_describe(acm, certificate("PENDING_VALIDATION"))
    expect_describe(acm, certificate("FAILED", FailureReason="CAA_ERROR"))

    with pytest.raises(CertificateFailed) as failed:
        ensure(aws, MemoryDns())

    assert failed.value.exit_code == EXIT_FAILED
    assert ARN in failed.value.message
    assert "CAA_ERROR" in failed.value.message
    assert failed.value.hint is not None
    assert 'issue "amazon.com"' in failed.value.hint
    assert "example.com" in failed.value.hint


def test_timed_out_with_the_record_in_place_points_at_delegation(aws: Aws, acm: Stubber) -> None:
    expect_request(acm)
    expect_describe(acm, certificate("PENDING_VALIDATION"))
    expect_describe(acm, certificate("VALIDATION_TIMED_OUT"))
    dns = MemoryDns()

    with pytest.raises(CertificateFailed) as failed:
        ensure(aws, dns)

    assert "VALIDATION_TIMED_OUT" in failed.value.message
    hint = failed.value.hint or ""
    assert "_3a1f.api.example.com" in hint
    assert "is at memory but ACM could not see it" in hint
    assert "example.com is delegated to memory" in hint


def test_a_validation_that_never_finishes_says_the_record_is_missing(
    aws: Aws, acm: Stubber, time: FakeTime
) -> None:
    expect_request(acm)
    expect_describe(acm, certificate("PENDING_VALIDATION"))
    for _ in range(19):  # a poll every 5 s from 0 s to the deadline at 90 s
        expect_describe(acm, certificate("PENDING_VALIDATION"))
    notes = Notes()

    with pytest.raises(CertificateFailed) as failed:
        ensure(aws, MemoryDns(drop_writes=True), notes, timeout=90)

    assert time.now == 90
    assert "still PENDING_VALIDATION after 90 s" in failed.value.message
    hint = failed.value.hint or ""
    assert "_3a1f.api.example.com → _9c2e.xyz.acm-validations.aws is not at memory" in hint
    # A progress line each minute, so a long validation does not look hung.
    assert [line for line in notes.lines if "still" in line] == [
        "regional certificate for api.example.com, example.com: still PENDING_VALIDATION after 60 s"
    ]


def test_names_outside_the_zone_are_refused_before_any_call(aws: Aws, acm: Stubber) -> None:
    with pytest.raises(InputError) as refused:
        ensure_certificate(
            aws,
            names=["api.example.org"],
            zone="example.com",
            dns=MemoryDns(),
            tags=TAGS,
        )
    assert refused.value.exit_code == EXIT_BAD_INPUT
    assert "api.example.org is outside the zone example.com" in refused.value.message
