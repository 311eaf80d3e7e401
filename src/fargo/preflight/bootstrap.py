"""`bootstrap`: the account and region's `fargo-bootstrap` stack (the lock table, the
artifact bucket). Looked up only: `plan` never creates it, and says that `deploy` will."""

from __future__ import annotations

from fargo.aws.cloudformation import CloudFormation
from fargo.bootstrap import find_bootstrap
from fargo.plan.checks import Check, Findings
from fargo.preflight.context import Preflight
from fargo.synth.bootstrap import STACK_NAME

NAME = "bootstrap"


def bootstrap(preflight: Preflight) -> Findings:
    where = f"{STACK_NAME} in {preflight.aws.config.region}"
    found = find_bootstrap(CloudFormation(preflight.aws))
    if found is None:
        return Findings.of(
            Check(
                NAME,
                "OK",
                f"{where}: not there yet; deploy creates it first (a DynamoDB lock table and "
                "an S3 bucket, once per account and region)",
            )
        )
    return Findings.of(Check(NAME, "OK", f"{where}: lock table {found.lock_table}"))
