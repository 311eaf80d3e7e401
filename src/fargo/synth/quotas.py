"""CloudFormation's per-template quotas, checked before anything is written.

A template over one of them is refused by CloudFormation only when its change set is
made, which for the services stack is after the network and data stacks have changed.
`render`, `plan` and `deploy` check every template here first, so an app that cannot be
deployed is refused whole, with nothing changed.

The figures are AWS's ("CloudFormation quotas" in the CloudFormation User Guide): they
are per template and cannot be raised.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fargo.errors import InputError
from fargo.synth.stack import StackTemplate

# "Template body size in a request": a larger body goes through S3 (TemplateURL).
INLINE_BODY_BYTES = 51_200
# "Template body size in an Amazon S3 object": 1 MB. CloudFormation counts it in
# decimal ("Template may not exceed 1000000 bytes in size"), as cfn-lint's E1002 does.
BODY_BYTES = 1_000_000
RESOURCES = 500
PARAMETERS = 200
OUTPUTS = 200


def template_text(body: dict[str, Any]) -> str:
    """The body as fargo sends it to CloudFormation: compact JSON, keys sorted (so the
    same template always has the same bytes, and the same S3 key)."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _body_bytes(body: dict[str, Any]) -> int:
    return len(template_text(body).encode())


def _section(name: str) -> Callable[[dict[str, Any]], int]:
    def count(body: dict[str, Any]) -> int:
        return len(body.get(name, {}))

    return count


@dataclass(frozen=True)
class Quota:
    """One limit: what is counted (`unit`), how, its AWS figure, and the way out."""

    unit: str
    measure: Callable[[dict[str, Any]], int]
    limit: int
    hint: str


_SPLIT = (
    "split the app: move some services to a second fargo.yml (another `app:`), which "
    "deploys its own stacks"
)
QUOTAS = (
    Quota("bytes", _body_bytes, BODY_BYTES, f"{_SPLIT}, or shorten long `env` values"),
    Quota("resources", _section("Resources"), RESOURCES, _SPLIT),
    Quota("parameters", _section("Parameters"), PARAMETERS, _SPLIT),
    Quota("outputs", _section("Outputs"), OUTPUTS, _SPLIT),
)


class QuotaExceeded(InputError):  # noqa: N818 - the name users see in --json output
    """A template over a CloudFormation quota: the app as written cannot be deployed."""


def check_quotas(templates: Iterable[StackTemplate]) -> None:
    """Raise `QuotaExceeded` (exit 2) for the first template over a quota."""
    for template in templates:
        for quota in QUOTAS:
            measured = quota.measure(template.body)
            if measured > quota.limit:
                raise QuotaExceeded(
                    f"the {template.kind.value} stack {template.name}: its template has "
                    f"{measured:,} {quota.unit}, over CloudFormation's limit of "
                    f"{quota.limit:,} {quota.unit}, so it cannot be deployed",
                    hint=quota.hint,
                )
