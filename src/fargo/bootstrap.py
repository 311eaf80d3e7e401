"""The `fargo-bootstrap` stack of an account and region: found (read-only, for `plan`) or
made on first use by a command that writes (`deploy`, `destroy`, `previews prune`).

Two first uses may race: CreateStack is atomic, so one creates it and the other, told
`AlreadyExistsException`, follows the creation to its end like the first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fargo.aws.cloudformation import CloudFormation, DeployedStack
from fargo.aws.facade import Aws
from fargo.errors import AwsError, DeployFailed
from fargo.execute.watch import StackWatcher, delete_stack, root_cause
from fargo.synth import outputs as out
from fargo.synth.bootstrap import STACK_NAME, TAGS, VERSION, bootstrap_template

# A create that never finished holds nothing; it is deleted and made again.
_FAILED_CREATE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "REVIEW_IN_PROGRESS")
_USABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


@dataclass(frozen=True)
class Bootstrap:
    """What the stack holds, from its outputs."""

    lock_table: str
    artifact_bucket: str
    version: int

    @classmethod
    def of(cls, stack: DeployedStack) -> Bootstrap | None:
        outputs = stack.outputs
        if stack.status not in _USABLE or out.LOCK_TABLE not in outputs:
            return None
        return cls(
            outputs[out.LOCK_TABLE],
            outputs.get(out.ARTIFACT_BUCKET, ""),
            int(outputs.get(out.BOOTSTRAP_VERSION, "0") or 0),
        )


def find_bootstrap(cloudformation: CloudFormation) -> Bootstrap | None:
    """The bootstrap stack as it stands, or None while it is not usable: it never writes."""
    deployed = cloudformation.describe(STACK_NAME)
    return Bootstrap.of(deployed) if deployed is not None else None


def ensure_bootstrap(aws: Aws, watcher: StackWatcher) -> Bootstrap:
    """The bootstrap stack, created (or brought up to this fargo's version) when needed."""
    cfn = watcher.cloudformation
    deployed = _settled(watcher, cfn.describe(STACK_NAME))
    if deployed is not None and deployed.status in _FAILED_CREATE:
        delete_stack(
            watcher,
            deployed,
            why="its first create failed",
            hint=f"delete the {STACK_NAME} stack in the CloudFormation console and run again",
        )
        deployed = None
    if deployed is None:
        watcher.reporter.note(
            f"creating {STACK_NAME} in {aws.config.region}: the lock table and artifact bucket "
            "fargo keeps in each account and region (once)"
        )
        deployed = _write(aws, watcher, "create_stack", EnableTerminationProtection=True)
    found = Bootstrap.of(deployed)
    if found is not None and found.version < VERSION:
        watcher.reporter.note(f"updating {STACK_NAME} to version {VERSION}")
        deployed = _write(aws, watcher, "update_stack")
        found = Bootstrap.of(deployed)
    if found is None:
        raise DeployFailed(
            f"{STACK_NAME} is {deployed.status}: {deployed.reason or 'not usable'}",
            hint=f"look at the {STACK_NAME} stack's events in the CloudFormation console, fix "
            "the cause and run again",
        )
    return found


def _settled(watcher: StackWatcher, deployed: DeployedStack | None) -> DeployedStack | None:
    """Wait out an operation another process started on the stack."""
    if deployed is None or not deployed.in_progress:
        return deployed
    watcher.reporter.note(f"waiting for {STACK_NAME} ({deployed.status}) to settle")
    seen = watcher.seen(STACK_NAME, exists=True)
    return watcher.follow(STACK_NAME, seen)[0]


def _write(aws: Aws, watcher: StackWatcher, operation: str, **extra: object) -> DeployedStack:
    """CreateStack or UpdateStack, followed to the end. A create that lost the race to
    another process follows that one's create instead."""
    seen = watcher.seen(STACK_NAME, exists=operation != "create_stack")
    cfn = watcher.cloudformation
    token = f"fargo-{uuid.uuid4()}"
    try:
        if operation == "create_stack":
            cfn.create_stack(STACK_NAME, bootstrap_template(), TAGS, token, **extra)
        else:
            cfn.update_stack(STACK_NAME, bootstrap_template(), TAGS, token)
    except AwsError as error:
        if not (error.code == "ValidationError" and "No updates" in error.message):
            raise
    verb = operation.removesuffix("_stack")
    watcher.reporter.stack_started(STACK_NAME, verb)
    final, events = watcher.follow(STACK_NAME, seen)
    if final is None:
        raise DeployFailed(
            f"{STACK_NAME} was deleted while fargo created it",
            hint="run the command again; it creates the stack anew",
        )
    watcher.reporter.stack_finished(STACK_NAME, final.status)
    if Bootstrap.of(final) is None:
        cause = root_cause(events)
        detail = f"{cause.logical_id}: {cause.reason}" if cause else final.status
        raise DeployFailed(
            f"{STACK_NAME}: {verb} failed: {detail}",
            hint="the caller needs permission to create DynamoDB tables and S3 buckets; "
            f"fix the cause and run again (fargo deletes a failed {STACK_NAME} first)",
        )
    return final
