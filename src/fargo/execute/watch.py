"""Follow a stack operation: stream its new events to the reporter until it settles."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fargo.aws.cloudformation import CloudFormation, DeployedStack, StackEvent
from fargo.errors import AwsError
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


def root_cause(events: list[StackEvent]) -> StackEvent | None:
    """The first failure that is not just a consequence of another one."""
    failures = [e for e in events if e.failed and e.reason]
    for event in failures:
        if not any(word in event.reason.lower() for word in _CONSEQUENCES):
            return event
    return failures[0] if failures else None
