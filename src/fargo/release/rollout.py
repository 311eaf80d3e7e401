"""Each ECS service's rollout, watched to its end: the PRIMARY deployment's rolloutState
reaches COMPLETED, or FAILED when the circuit breaker (or a deployment alarm) rolled it back.
ECS's service events are streamed while the services stack changes, new ones only, beside
the stack's own events; the time each rollout took is AWS's (the deployment's createdAt to
its updatedAt). Deploy's wait-for-rollout steps (fargo.release.stage) wait through it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fargo.aws.facade import Aws
from fargo.progress import Reporter

# DescribeServices takes at most 10 services a call.
_BATCH = 10
_DONE = frozenset({"COMPLETED", "FAILED"})
# The service's PRIMARY deployment is the one it had before the stack changed: the change
# left this service as it was (another service's did change).
UNCHANGED = "UNCHANGED"


@dataclass(frozen=True)
class Rollout:
    service: str
    # COMPLETED | FAILED | IN_PROGRESS (still rolling when the wait ran out) | UNCHANGED
    state: str
    reason: str
    seconds: float | None

    def to_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "state": self.state,
            "reason": self.reason,
            "seconds": self.seconds,
        }

    @property
    def succeeded(self) -> bool:
        return self.state in ("COMPLETED", UNCHANGED)

    def line(self) -> str:
        if self.state == UNCHANGED:
            return f"{self.service}: no new deployment"
        took = f" in {self.seconds:.0f} s" if self.seconds is not None else ""
        reason = f": {self.reason}" if self.reason and self.state != "COMPLETED" else ""
        return f"{self.service}: rollout {self.state}{took}{reason}"


class RolloutWatcher:
    """ECS's events of the app's long-running services, streamed in the background while
    the services stack changes (`streaming`); then each service's rollout waited for to
    its end (`wait`), its events reported as they come. An event is reported once."""

    def __init__(
        self,
        aws: Aws,
        reporter: Reporter,
        services: Iterable[str],
        *,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 3600.0,
    ) -> None:
        self._aws = aws
        self._reporter = reporter
        self._services = tuple(services)
        self._poll = poll_seconds
        self._timeout = timeout_seconds
        self._seen: set[str] = set()
        # Each service's PRIMARY deployment as the stack's change began.
        self._before: dict[str, str] = {}

    @contextmanager
    def streaming(self, cluster: str) -> Iterator[None]:
        """The events there are already noted, new ones reported until the block ends."""
        described = self._describe(cluster, self._services)
        self._report(described, quiet=True)
        self._before = {
            str(s.get("serviceName")): str(primary.get("id"))
            for s in described
            if (primary := _primary(s)) is not None
        }
        stop = threading.Event()

        def stream() -> None:
            while not stop.wait(self._poll):
                self._report(self._describe(cluster, self._services))

        thread = threading.Thread(target=stream, name="ecs-events", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def wait(self, cluster: str, service: str) -> Rollout:
        """`service`'s PRIMARY deployment to COMPLETED or FAILED, or the timeout's end."""
        deadline = self._aws.clock() + self._timeout
        while True:
            described = self._describe(cluster, (service,))
            self._report(described)
            if not described:
                return Rollout(service, "FAILED", "ECS does not know the service", None)
            primary = _primary(described[0])
            if primary is not None and self._before.get(service) == primary.get("id"):
                return Rollout(service, UNCHANGED, "", None)
            rollout = _rollout(described[0])
            if rollout.state in _DONE or self._aws.clock() > deadline:
                return rollout
            self._aws.sleep(self._poll)

    def _describe(self, cluster: str, services: tuple[str, ...]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for i in range(0, len(services), _BATCH):
            batch = list(services[i : i + _BATCH])
            answer = self._aws.call("ecs", "describe_services", cluster=cluster, services=batch)
            found += answer.get("services") or []
        return found

    def _report(self, services: list[dict[str, Any]], *, quiet: bool = False) -> None:
        for service in services:
            # ECS lists events newest first.
            for event in reversed(service.get("events") or []):
                if event.get("id") in self._seen:
                    continue
                self._seen.add(str(event.get("id")))
                if not quiet:
                    self._reporter.note(f"ecs | {event.get('message', '')}")


def _rollout(service: dict[str, Any]) -> Rollout:
    name = str(service.get("serviceName"))
    primary = _primary(service)
    if primary is None:
        return Rollout(name, "FAILED", "the service has no PRIMARY deployment", None)
    state = str(primary.get("rolloutState") or "COMPLETED")
    created, updated = primary.get("createdAt"), primary.get("updatedAt")
    seconds = (
        (updated - created).total_seconds()
        if state in _DONE and created is not None and updated is not None
        else None
    )
    return Rollout(name, state, str(primary.get("rolloutStateReason") or ""), seconds)


def _primary(service: dict[str, Any]) -> dict[str, Any] | None:
    """The deployment ECS is rolling the service to (or has rolled it to)."""
    return next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), None)
