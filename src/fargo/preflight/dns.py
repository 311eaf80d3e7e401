"""`dns-zone`: the domain's zone exists at its DNS provider and the credentials can read it."""

from __future__ import annotations

from fargo.edge.dns.errors import MissingDnsCredentials
from fargo.errors import FargoError
from fargo.plan.checks import Check, Findings
from fargo.preflight.context import Preflight

NAME = "dns-zone"


def dns_zone(preflight: Preflight) -> Findings:
    domain = preflight.app.domain
    if domain is None:
        return Findings()
    looked = f"zone {domain.name} at {domain.dns}"
    try:
        provider = preflight.dns()
    except MissingDnsCredentials as error:
        unset = f"{' and '.join(error.variables)} {'is' if len(error.variables) == 1 else 'are'}"
        if preflight.deploying:
            # Deploy writes the domain's records: without credentials it cannot finish.
            return Findings.of(Check(NAME, "FAILED", f"{looked}: {unset} not set", error.hint))
        return Findings.of(Check(NAME, "SKIPPED", f"not checked: {unset} not set", error.hint))
    try:
        handle = provider.find_zone(domain.name)
    except FargoError as error:
        return Findings.of(Check(NAME, "FAILED", f"{looked}: {error.message}", error.hint))
    found = "" if handle.rstrip(".") == domain.name else f" ({handle})"
    return Findings.of(Check(NAME, "OK", f"{looked}: found{found}"))
