"""The names fargo gives its change sets, and the removal of those a run left behind.

A change set is named `fargo-<epoch-ms>-<random>`: the random part means two processes that
plan the same stack in the same millisecond never pick one name, and the name doubles as the
CreateChangeSet ClientToken, so the SDK's retry of the call carries the same token.

A run that stopped between making a change set and executing or deleting it (a lost answer,
Ctrl-C, a refused plan whose cleanup failed) leaves it behind, and a first create leaves its
stack in REVIEW_IN_PROGRESS behind it. The next run removes fargo's own change sets that
were made and never executed before it plans the stack; anyone else's are left alone.
"""

from __future__ import annotations

import secrets
import time

from fargo.aws.cloudformation import CloudFormation
from fargo.progress import Reporter

CHANGE_SET_PREFIX = "fargo-"
# Made and never executed: CREATE_COMPLETE (executable) or FAILED (refused, or no changes).
# CREATE_PENDING and CREATE_IN_PROGRESS are still being made by someone: left alone.
_SETTLED = frozenset({"CREATE_COMPLETE", "FAILED"})


def new_change_set_name() -> str:
    return f"{CHANGE_SET_PREFIX}{int(time.time() * 1000)}-{secrets.token_hex(4)}"


def discard_orphans(cloudformation: CloudFormation, stack: str, reporter: Reporter) -> int:
    """Delete the stack's fargo change sets that were made and never executed; how many."""
    orphans = [
        c
        for c in cloudformation.change_sets(stack)
        if c.name.startswith(CHANGE_SET_PREFIX) and c.status in _SETTLED and not c.executed
    ]
    for orphan in orphans:
        cloudformation.delete_change_set(orphan.change_set_id)
    if orphans:
        names = ", ".join(o.name for o in orphans)
        reporter.note(f"{stack}: removed change sets an earlier run left behind: {names}")
    return len(orphans)
