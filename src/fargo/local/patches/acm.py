"""ACM: a DNS-validated certificate waits for its validation records, and a certificate a
load balancer uses is in use.

Gap 1 (ministack 1.5.33): RequestCertificate stores an ISSUED certificate whose validation
options are already SUCCESS, under `_acme-challenge.<domain>` records that are the same for
every certificate of a domain. On AWS a DNS-validated request is PENDING_VALIDATION, each
name's option carries its own CNAME (`_<hash>.<domain>.` to
`_<hash>.<token>.acm-validations.aws.`, a wildcard sharing its base name's), and the
certificate is issued only once ACM sees that CNAME in DNS. A client that waits for the
records, writes them and waits for ISSUED never ran its DNS step against the emulator.

Now a DNS-validated request is PENDING_VALIDATION with records of ACM's shape, unique per
certificate. The emulator cannot look records up in the user's DNS, so it issues on the
first DescribeCertificate at least a second after one that reported the records: the caller
has seen them and had time to write them, as ACM takes a while to see a new record. A rule
counting describes instead ("issued on the next one") would issue a certificate that a
caller merely looked at twice, before writing anything. Certificates created through
CloudFormation, which ministack provisions apart from RequestCertificate, are left as they
are.

Gap 2: InUseBy names only Signer profiles, and DeleteCertificate refuses only those. On
AWS a load balancer whose listener holds the certificate is in InUseBy, and
DeleteCertificate answers ResourceInUseException while it is. ministack asks one function
who uses a certificate for both; it now also names those load balancers.
"""

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, replace

Handler = Callable[[dict[str, Any]], Any]

_PENDING = "PENDING_VALIDATION"
# When a DescribeCertificate first reported a pending certificate's records (epoch seconds).
_REPORTED_AT = "_fargo_validation_records_reported_at"
# How long after that the emulator's ACM "sees" the records: a caller has written them.
ISSUE_AFTER_SECONDS = 1.0


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _pending_options(arn: str, names: list[str]) -> list[dict[str, Any]]:
    options = []
    for name in names:
        base = name[2:] if name.startswith("*.") else name
        options.append(
            {
                "DomainName": name,
                "ValidationDomain": base,
                "ValidationMethod": "DNS",
                "ValidationStatus": _PENDING,
                "ResourceRecord": {
                    "Name": f"_{_digest(arn, base, 'name')[:32]}.{base}.",
                    "Type": "CNAME",
                    "Value": f"_{_digest(arn, base, 'value')[:32]}."
                    f"{_digest(arn, base, 'token')[:10]}.acm-validations.aws.",
                },
            }
        )
    return options


def _requested_pending(request: Handler, certificates: Any) -> Handler:
    def requested(data: dict[str, Any]) -> Any:
        response = request(data)
        status, _headers, body = response
        if status != 200 or data.get("ValidationMethod", "DNS") != "DNS":
            return response
        arn = json.loads(body)["CertificateArn"]
        cert = certificates[arn]
        cert["Status"] = _PENDING
        cert["DomainValidationOptions"] = _pending_options(arn, cert["SubjectAlternativeNames"])
        cert.pop("IssuedAt", None)
        return response

    return requested


def _described_issuing(describe: Handler, certificates: Any, now: Callable[[], str]) -> Handler:
    def described(data: dict[str, Any]) -> Any:
        cert = certificates.get(data.get("CertificateArn", ""))
        if cert is not None and cert.get("Status") == _PENDING:
            reported = cert.setdefault(_REPORTED_AT, time.time())
            if time.time() - reported >= ISSUE_AFTER_SECONDS:
                cert["Status"] = "ISSUED"
                cert["IssuedAt"] = now()
                for option in cert["DomainValidationOptions"]:
                    option["ValidationStatus"] = "SUCCESS"
        return describe(data)

    return described


def validate_through_dns() -> None:
    """Closes gap 1 in the module docstring."""
    acm = module("ministack.services.acm")
    certificates = attr(acm, "_certificates")
    now = attr(module("ministack.core.responses"), "now_iso")
    original = attr(acm, "_request_certificate")
    replace(acm, "_request_certificate", _requested_pending(original, certificates))
    original = attr(acm, "_describe_certificate")
    replace(acm, "_describe_certificate", _described_issuing(original, certificates, now))


def count_load_balancers_as_users() -> None:
    """Closes gap 2 in the module docstring."""
    acm, alb = module("ministack.services.acm"), module("ministack.services.alb")
    listeners = attr(alb, "_listeners")
    signers = attr(acm, "_signing_profiles_using")

    def users(arn: str) -> list[str]:
        balancers = {
            listener["LoadBalancerArn"]
            for listener in listeners.values()
            if arn in (listener.get("Certificates") or [])
        }
        return [*signers(arn), *sorted(balancers)]

    replace(acm, "_signing_profiles_using", users)
