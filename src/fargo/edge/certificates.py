"""ACM certificates for the app's domain, validated through DNS at the user's provider.

A certificate is requested before any stack changes: the load balancer's HTTPS listener
(`regional`, in the app's region) and a CloudFront distribution (`cloudfront`, always in
us-east-1) take its ARN as a parameter. The caller hands in an `Aws` for the right region.

- **Found, not re-requested.** A certificate carrying fargo's tags for this app,
  environment and scope, for exactly these names, ISSUED or still PENDING_VALIDATION, is
  reused: a redeploy requests nothing, and a deploy interrupted while waiting picks up the
  certificate it requested.
- **Validated through DNS.** ACM hands out one CNAME per name (a wildcard shares its base
  name's); they are written through the DNS provider, so any provider works, Route 53 or
  not. Then fargo waits for ISSUED.
- **A failed validation says why.** FAILED or VALIDATION_TIMED_OUT is an error naming the
  certificate, ACM's reason and, from what the provider holds, whether the record is missing
  there or is there but unseen by ACM (the zone is not delegated to that provider).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fargo.aws.facade import Aws
from fargo.edge.dns.provider import DnsProvider
from fargo.edge.dns.records import DnsRecord, fqdn, in_zone
from fargo.errors import AwsError, FargoError, InputError
from fargo.progress import Reporter, SilentReporter

__all__ = [
    "IDENTITY_TAGS",
    "CertificateFailed",
    "delete_certificate",
    "ensure_certificate",
    "find_certificates",
    "validation_records",
]

# The tags that make a certificate this app's, this environment's, for this scope.
IDENTITY_TAGS = ("fargo:app", "fargo:env", "fargo:scope")
# Statuses in which a certificate is (or may still become) usable.
_USABLE = ("ISSUED", "PENDING_VALIDATION")
_FAILED = ("FAILED", "VALIDATION_TIMED_OUT")
# Statuses a certificate never leaves for ISSUED.
_FINAL = (*_FAILED, "REVOKED", "EXPIRED", "INACTIVE")
_VALIDATION_TTL = 300
# While waiting, a progress line this often, so a long validation does not look hung.
_NOTE_EVERY_SECONDS = 60.0

_FAILURE_HINTS = {
    "CAA_ERROR": "a CAA record on {zone} does not let Amazon issue: add "
    '`0 issue "amazon.com"` there, or remove the CAA records',
    "DOMAIN_NOT_ALLOWED": "ACM does not issue for these names; check domain.api and "
    "domain.site in fargo.yml",
    "INVALID_PUBLIC_DOMAIN": "ACM does not issue for these names; check domain.api and "
    "domain.site in fargo.yml",
    "ADDITIONAL_VERIFICATION_REQUIRED": "ACM wants more verification for these names; "
    "open a case with AWS Support",
}


class CertificateFailed(FargoError):  # noqa: N818 - the name users see in --json output
    """ACM did not issue the domain's certificate."""


def ensure_certificate(
    aws: Aws,
    *,
    names: Sequence[str],
    zone: str,
    dns: DnsProvider,
    tags: Mapping[str, str],
    reporter: Reporter | None = None,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 1800.0,
) -> str:
    """The ARN of an ISSUED certificate for exactly `names` (the first is its DomainName),
    found or requested, its validation CNAMEs written in `zone` through `dns`.

    `tags` go on a requested certificate and must hold fargo:app, fargo:env and fargo:scope,
    which identify it on the next run.
    """
    reporter = reporter or SilentReporter()
    wanted = _names(names, zone)
    identity = _identity(tags)
    what = f"{identity['fargo:scope']} certificate for {', '.join(wanted)}"
    found = _find(aws, wanted, identity)
    if found.usable is not None:
        arn = found.usable
        reporter.note(f"{what}: reusing {arn}")
    else:
        arn = _request(aws, wanted, tags, attempt=found.failed)
        reporter.note(f"{what}: requested {arn}")
    deadline = aws.clock() + timeout_seconds
    certificate = _describe(aws, arn)
    if certificate["Status"] == "ISSUED":
        return arn
    waiting = _Waiting(aws, arn, deadline, poll_seconds, reporter, what, zone)
    records = waiting.for_records(certificate)
    written = dns.upsert(zone, records)
    for record in records:
        state = "written" if record in written else "already in place"
        reporter.note(f"{what}: validation CNAME {record.name} {state} at {dns.name}")
    waiting.until_issued(_Check(zone, dns, records))
    reporter.note(f"{what}: issued")
    return arn


def validation_records(aws: Aws, arn: str) -> list[DnsRecord]:
    """The CNAMEs ACM asks for, one per distinct record (a wildcard shares its base's);
    none for a certificate that no longer exists."""
    try:
        return _records(_describe(aws, arn))
    except AwsError as error:
        if error.code == "ResourceNotFoundException":
            return []
        raise


def find_certificates(aws: Aws, tags: Mapping[str, str]) -> list[str]:
    """ARNs of every certificate, in any status, carrying these fargo identity tags
    (fargo:scope may be left out to match both scopes): what destroy removes."""
    wanted = {k: v for k, v in tags.items() if k in IDENTITY_TAGS}
    return [
        summary["CertificateArn"]
        for summary in _list(aws, statuses=None)
        if _has_tags(aws, summary["CertificateArn"], wanted)
    ]


def delete_certificate(
    aws: Aws, arn: str, reporter: Reporter | None = None, *, wait_seconds: float = 0.0
) -> bool:
    """Delete a certificate unless something uses it: True when it is gone (deleted now,
    or already), False when it is in use, which is reported and kept, not an error.

    Destroy calls this after the stacks are gone. ACM may go on listing a just-deleted load
    balancer as a user for a little while; `wait_seconds` waits that out before keeping it.
    """
    reporter = reporter or SilentReporter()
    deadline = aws.clock() + wait_seconds
    while True:
        try:
            users = _describe(aws, arn).get("InUseBy", [])
            if not users:
                aws.call("acm", "delete_certificate", CertificateArn=arn)
                return True
        except AwsError as error:
            if error.code == "ResourceNotFoundException":
                return True
            if error.code != "ResourceInUseException":
                raise
            users = ["a resource ACM did not name"]
        if aws.clock() >= deadline:
            reporter.note(
                f"kept certificate {arn}: in use by {', '.join(users)}; delete it in ACM "
                "once nothing uses it"
            )
            return False
        aws.sleep(min(5.0, max(0.0, deadline - aws.clock())))


@dataclass
class _Found:
    """What is already in ACM for these names and tags."""

    usable: str | None = None
    failed: int = 0  # earlier requests that failed: a new request needs a new token


@dataclass(frozen=True)
class _Check:
    """Where the validation records stand at the provider, for a failure's hint."""

    zone: str
    dns: DnsProvider
    records: list[DnsRecord]

    def hint(self) -> str:
        try:
            missing = [
                r
                for r in self.records
                if r.value not in {h.value for h in self.dns.records(self.zone, r.name, "CNAME")}
            ]
        except FargoError as error:
            return f"the records could not be read back from {self.dns.name}: {error.message}"
        if missing:
            record = missing[0]
            return (
                f"the CNAME {record.name} → {record.value} is not at {self.dns.name}; "
                f"check that fargo's credentials may write {self.zone}, then deploy again"
            )
        names = ", ".join(r.name for r in self.records)
        return (
            f"the CNAME {names} is at {self.dns.name} but ACM could not see it; check that "
            f"{self.zone} is delegated to {self.dns.name} (its NS records at the registrar), "
            "then deploy again"
        )


def _names(names: Sequence[str], zone: str) -> list[str]:
    wanted = list(dict.fromkeys(fqdn(n) for n in names))
    if not wanted:
        raise ValueError("a certificate needs at least one name")
    outside = [n for n in wanted if not in_zone(n.removeprefix("*."), fqdn(zone))]
    if outside:
        raise InputError(
            f"{', '.join(outside)} is outside the zone {zone}",
            hint=f"fargo validates certificates through records in {zone}; use names under it",
        )
    return wanted


def _identity(tags: Mapping[str, str]) -> dict[str, str]:
    missing = [k for k in IDENTITY_TAGS if not tags.get(k)]
    if missing:
        raise ValueError(f"certificate tags lack {', '.join(missing)}")
    return {k: tags[k] for k in IDENTITY_TAGS}


def _list(aws: Aws, statuses: Sequence[str] | None) -> list[dict[str, Any]]:
    filters: dict[str, Any] = {"Includes": {"keyTypes": ["RSA_2048"]}}
    if statuses is not None:
        filters["CertificateStatuses"] = list(statuses)
    return aws.paginate("acm", "list_certificates", "CertificateSummaryList", **filters)


def _has_tags(aws: Aws, arn: str, wanted: Mapping[str, str]) -> bool:
    held = aws.call("acm", "list_tags_for_certificate", CertificateArn=arn).get("Tags", [])
    values = {t["Key"]: t.get("Value") for t in held}
    return all(values.get(k) == v for k, v in wanted.items())


def _find(aws: Aws, names: list[str], identity: Mapping[str, str]) -> _Found:
    found = _Found()
    issued: str | None = None
    pending: str | None = None
    for summary in _list(aws, statuses=(*_USABLE, *_FAILED)):
        arn = summary["CertificateArn"]
        if fqdn(summary.get("DomainName", "")) != names[0] or not _has_tags(aws, arn, identity):
            continue
        certificate = _describe(aws, arn)
        held = [fqdn(n) for n in certificate.get("SubjectAlternativeNames", [])]
        if set(held) | {names[0]} != set(names):
            continue
        status = certificate["Status"]
        if status in _FAILED:
            found.failed += 1
        elif status == "ISSUED":
            issued = issued or arn
        elif status == "PENDING_VALIDATION":
            pending = pending or arn
    found.usable = issued or pending
    return found


def _request(aws: Aws, names: list[str], tags: Mapping[str, str], *, attempt: int) -> str:
    # The same token within an hour gives back the same certificate: two deploys racing, or
    # a retried call, make one. A failed one counts, so the next attempt gets a new token.
    seed = "\n".join([*(tags[k] for k in IDENTITY_TAGS), *names, str(attempt)])
    token = hashlib.sha256(seed.encode()).hexdigest()[:32]
    response = aws.call(
        "acm",
        "request_certificate",
        DomainName=names[0],
        SubjectAlternativeNames=names,
        ValidationMethod="DNS",
        KeyAlgorithm="RSA_2048",
        IdempotencyToken=token,
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    return str(response["CertificateArn"])


def _describe(aws: Aws, arn: str) -> dict[str, Any]:
    certificate: dict[str, Any] = aws.call("acm", "describe_certificate", CertificateArn=arn)[
        "Certificate"
    ]
    return certificate


def _records(certificate: Mapping[str, Any]) -> list[DnsRecord]:
    records: dict[tuple[str, str], DnsRecord] = {}
    for option in certificate.get("DomainValidationOptions", []):
        found = option.get("ResourceRecord")
        if found is None:
            continue
        record = DnsRecord(found["Name"], "CNAME", found["Value"], _VALIDATION_TTL)
        records.setdefault((record.name, record.value), record)
    return list(records.values())


def _has_all_records(certificate: Mapping[str, Any]) -> bool:
    options = certificate.get("DomainValidationOptions", [])
    return bool(options) and all(o.get("ResourceRecord") for o in options)


@dataclass(frozen=True)
class _Waiting:
    """Polling one certificate until a deadline, with progress lines."""

    aws: Aws
    arn: str
    deadline: float
    poll_seconds: float
    reporter: Reporter
    what: str
    zone: str

    def for_records(self, certificate: dict[str, Any]) -> list[DnsRecord]:
        """ACM fills in the validation records a few seconds after the request."""
        if not _has_all_records(certificate):
            self.reporter.note(f"{self.what}: waiting for ACM's validation records")
        while not _has_all_records(certificate):
            self._fail_if_final(certificate, None)
            if self.aws.clock() >= self.deadline:
                raise CertificateFailed(
                    f"ACM gave no validation records for {self.arn} in time",
                    hint="ACM is slow or the request is stuck; deploy again to keep waiting",
                )
            self.aws.sleep(self.poll_seconds)
            certificate = _describe(self.aws, self.arn)
        return _records(certificate)

    def until_issued(self, check: _Check) -> None:
        started = last_note = self.aws.clock()
        self.reporter.note(f"{self.what}: waiting for ACM to see the records and issue")
        while True:
            certificate = _describe(self.aws, self.arn)
            status = certificate["Status"]
            if status == "ISSUED":
                return
            self._fail_if_final(certificate, check)
            now = self.aws.clock()
            if now >= self.deadline:
                raise CertificateFailed(
                    f"certificate {self.arn} is still {status} after {now - started:.0f} s",
                    hint=check.hint(),
                )
            if now - last_note >= _NOTE_EVERY_SECONDS:
                self.reporter.note(f"{self.what}: still {status} after {now - started:.0f} s")
                last_note = now
            self.aws.sleep(self.poll_seconds)

    def _fail_if_final(self, certificate: Mapping[str, Any], check: _Check | None) -> None:
        status = certificate["Status"]
        if status not in _FINAL:
            return
        reason = certificate.get("FailureReason") or status
        if status == "VALIDATION_TIMED_OUT" and check is not None:
            hint = check.hint()
        elif reason in _FAILURE_HINTS:
            hint = _FAILURE_HINTS[reason].format(zone=self.zone)
        else:
            hint = "see the certificate in the ACM console; deploy again to request a new one"
        raise CertificateFailed(f"certificate {self.arn} is {status}: {reason}", hint=hint)
