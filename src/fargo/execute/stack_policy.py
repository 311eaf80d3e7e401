"""Whether a stack's policy was left open, and closing it again.

With --allow-data-loss the executor opens the data stack's policy to allow everything for
one update and puts the template's back afterwards, even when the update fails. A process
killed in between (kill -9, a lost runner) leaves it open: the stack then denies nothing the
template denies. `plan` and `status` warn while it is; `deploy` and `destroy` close it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fargo.aws.cloudformation import CloudFormation
from fargo.plan.checks import PlanWarning
from fargo.progress import Reporter
from fargo.synth.stack import StackTemplate

WARNING_CODE = "stack-policy-open"


def _denies(policy: dict[str, Any] | None) -> bool:
    return any(s.get("Effect") == "Deny" for s in (policy or {}).get("Statement", []))


def is_open(deployed: dict[str, Any] | None, wanted: dict[str, Any] | None) -> bool:
    """The template protects something and the deployed policy protects nothing."""
    return _denies(wanted) and not _denies(deployed)


def _holds_resources(cloudformation: CloudFormation, name: str) -> bool:
    """A stack whose create ran and that is not being deleted: a policy guards it."""
    deployed = cloudformation.describe(name)
    return deployed is not None and not deployed.status.startswith(
        ("REVIEW_IN_PROGRESS", "ROLLBACK_", "DELETE_")
    )


def open_policies(
    cloudformation: CloudFormation, templates: Iterable[StackTemplate]
) -> dict[str, dict[str, Any]]:
    """The deployed stacks whose policy is open, with the policy each wants (read-only)."""
    return {
        t.name: t.stack_policy
        for t in templates
        if t.stack_policy is not None
        and _holds_resources(cloudformation, t.name)
        and is_open(cloudformation.stack_policy(t.name), t.stack_policy)
    }


def warning(name: str) -> str:
    return (
        f"{name}: the stack policy is open (it allows replacing and deleting the data stores), "
        "left so by an interrupted --allow-data-loss update; the next deploy or destroy "
        "closes it"
    )


def open_policy_warnings(
    cloudformation: CloudFormation, templates: Iterable[StackTemplate]
) -> tuple[PlanWarning, ...]:
    return tuple(
        PlanWarning(WARNING_CODE, warning(name))
        for name in open_policies(cloudformation, templates)
    )


def close_open_policies(
    cloudformation: CloudFormation, templates: Iterable[StackTemplate], reporter: Reporter
) -> tuple[str, ...]:
    """Put the template's policy back on every stack left open; the stacks closed."""
    wanted = open_policies(cloudformation, templates)
    for name, policy in wanted.items():
        reporter.note(
            f"{name}: the stack policy was left open by an interrupted --allow-data-loss "
            "update; closing it"
        )
        cloudformation.set_stack_policy(name, policy)
    return tuple(wanted)
