"""Each ECS service's rollout, watched to its end: the PRIMARY deployment's rolloutState
reaches COMPLETED, or FAILED when the circuit breaker (or a deployment alarm) rolled it back.
ECS's service events are streamed while the services stack changes, new ones only, beside
the stack's own events; the time each rollout took is AWS's (the deployment's createdAt to
its updatedAt). Deploy's wait-for-rollout steps (fargo.release.stage) wait through it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from fargo.aws.facade import Aws
from fargo.errors import AwsError
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
        # Each service's deployments (ids) as the stack's change began.
        self._before: dict[str, frozenset[str]] = {}

    @contextmanager
    def streaming(self, cluster: str) -> Iterator[None]:
        """The events there are already noted, new ones reported until the block ends. ECS
        failing to answer stops the stream (said once), never the change set."""
        if not self._services:
            yield
            return
        try:
            described = self._describe(cluster, self._services)
        except AwsError as error:
            self._reporter.note(f"ECS's service events are not shown: {error}")
            yield
            return
        self._report(described, quiet=True)
        self._before = {
            str(s.get("serviceName")): frozenset(str(d.get("id")) for d in _deployments(s))
            for s in described
        }
        stop = threading.Event()

        def stream() -> None:
            try:
                while not stop.wait(self._poll):
                    self._report(self._describe(cluster, self._services))
            except AwsError as error:
                self._reporter.note(f"ECS's service events stopped: {error}")

        thread = threading.Thread(target=stream, name="ecs-events", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            # The events of the change set's last moments (the circuit breaker's, as the
            # stack fails with it) came after the stream's last look.
            with suppress(AwsError):
                self._report(self._describe(cluster, self._services))

    def wait(self, cluster: str, service: str) -> Rollout:
        """`service`'s rollout to its end (COMPLETED or FAILED), or the timeout's; UNCHANGED
        when the change left it on the deployment it had, complete, and no new one failed."""
        deadline = self._aws.clock() + self._timeout
        while True:
            described = self._describe(cluster, (service,))
            self._report(described)
            if not described:
                return Rollout(service, "FAILED", "ECS does not know the service", None)
            before = self._before.get(service, frozenset())
            new = [d for d in _deployments(described[0]) if str(d.get("id")) not in before]
            # A circuit breaker that rolled back makes the earlier deployment PRIMARY again:
            # the new one, failed, is what to report.
            failed = next((d for d in new if d.get("rolloutState") == "FAILED"), None)
            if failed is not None:
                return _rollout(service, failed)
            primary = _primary(described[0])
            if primary is not None and not new and primary.get("rolloutState") == "COMPLETED":
                return Rollout(service, UNCHANGED, "", None)
            rollout = _rollout(service, primary)
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


def _rollout(service: str, deployment: dict[str, Any] | None) -> Rollout:
    if deployment is None:
        return Rollout(service, "FAILED", "the service has no PRIMARY deployment", None)
    state = str(deployment.get("rolloutState") or "COMPLETED")
    created, updated = deployment.get("createdAt"), deployment.get("updatedAt")
    seconds = (
        (updated - created).total_seconds()
        if state in _DONE and created is not None and updated is not None
        else None
    )
    return Rollout(service, state, str(deployment.get("rolloutStateReason") or ""), seconds)


def _deployments(service: dict[str, Any]) -> list[dict[str, Any]]:
    return list(service.get("deployments") or [])


def _primary(service: dict[str, Any]) -> dict[str, Any] | None:
    """The deployment ECS is rolling the service to (or has rolled it to)."""
    return next((d for d in _deployments(service) if d.get("status") == "PRIMARY"), None)
