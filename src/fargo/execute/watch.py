"""Follow a stack operation: stream its new events to the reporter until it settles."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fargo.aws.cloudformation import CloudFormation, DeployedStack, StackEvent
from fargo.errors import AwsError, DeployFailed
from fargo.progress import Reporter

# "Resource creation cancelled" and friends are consequences, not causes.
_CONSEQUENCES = ("cancelled", "canceled", "rollback requested", "resource(s) failed")


@dataclass
class StackWatcher:
    cloudformation: CloudFormation
    reporter: Reporter
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_seconds: float = 1.0
    # Real stacks can take hours (a Multi-AZ database, CloudFront); an emulator never should.
    timeout_seconds: float = 3 * 3600

    def seen(self, name: str, *, exists: bool) -> set[str]:
        """Ids of events that predate the operation about to start."""
        return {e.event_id for e in self.cloudformation.events(name)} if exists else set()

    def follow(
        self, name: str, seen: set[str], *, stack_id: str | None = None
    ) -> tuple[DeployedStack | None, list[StackEvent]]:
        """Stream events until the stack is no longer in progress; return it and its events.

        Pass `stack_id` when deleting: a deleted stack is no longer found by name.
        """
        history: list[StackEvent] = []
        deadline = self.clock() + self.timeout_seconds
        while True:
            deployed = self.cloudformation.describe(stack_id or name)
            if deployed is not None:
                for event in reversed(self.cloudformation.events(deployed.stack_id)):
                    if event.event_id not in seen:
                        seen.add(event.event_id)
                        history.append(event)
                        self.reporter.stack_event(name, event)
            if deployed is None or (
                not deployed.in_progress and deployed.status != "REVIEW_IN_PROGRESS"
            ):
                return deployed, history
            if self.clock() > deadline:
                raise AwsError(
                    f"{name} is still {deployed.status} after {self.timeout_seconds:.0f} s",
                    hint="check the stack's events; run deploy again once it settles",
                )
            self.sleep(self.poll_seconds)


def delete_stack(watcher: StackWatcher, deployed: DeployedStack, *, why: str, hint: str) -> None:
    """Delete `deployed` and follow it to the end; every path that deletes a stack (destroy,
    a retired stack, a failed first create) goes through here.

    Termination protection is turned off first: each caller reaches this only once the
    deletion was confirmed or planned and guarded. `why` says so in the note."""
    cfn, reporter, name = watcher.cloudformation, watcher.reporter, deployed.name
    if deployed.termination_protection:
        reporter.note(f"{name}: turning termination protection off, {why}")
        cfn.set_termination_protection(name, enabled=False)
    reporter.stack_started(name, "delete")
    seen = watcher.seen(name, exists=True)
    cfn.delete_stack(name, token=f"fargo-{uuid.uuid4()}")
    final, events = watcher.follow(name, seen, stack_id=deployed.stack_id)
    status = final.status if final else "DELETE_COMPLETE"
    reporter.stack_finished(name, status)
    if status != "DELETE_COMPLETE":
        cause = root_cause(events)
        detail = f"{cause.logical_id}: {cause.reason}" if cause else status
        raise DeployFailed(f"{name}: delete failed: {detail}", hint=hint)


def root_cause(events: list[StackEvent]) -> StackEvent | None:
    """The first failure that is not just a consequence of another one."""
    failures = [e for e in events if e.failed and e.reason]
    for event in failures:
        if not any(word in event.reason.lower() for word in _CONSEQUENCES):
            return event
    return failures[0] if failures else None
