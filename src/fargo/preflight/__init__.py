"""Pre-flight checks: read-only lookups that `plan` and `deploy` run before anything else.

Each check is one small function of a `Preflight` (what to check, and how to ask AWS and
the DNS provider) returning `Findings`; `CHECKS` lists them in the order they run. A
FAILED check stops the command before any image, certificate, record or stack is written;
see `fargo.plan.checks` for the statuses and names.
"""

from __future__ import annotations

from collections.abc import Callable

from fargo.plan.checks import Findings
from fargo.preflight.bootstrap import bootstrap
from fargo.preflight.cdn import cdn_distribution
from fargo.preflight.context import Preflight
from fargo.preflight.dns import dns_zone
from fargo.preflight.images import images
from fargo.preflight.secrets import secrets

__all__ = ["CHECKS", "Preflight", "run_checks"]

CheckFn = Callable[[Preflight], Findings]

CHECKS: tuple[CheckFn, ...] = (dns_zone, secrets, cdn_distribution, images, bootstrap)


def run_checks(preflight: Preflight, checks: tuple[CheckFn, ...] = CHECKS) -> Findings:
    found = Findings()
    for check in checks:
        found += check(preflight)
    return found
