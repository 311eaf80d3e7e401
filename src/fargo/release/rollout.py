"""Each ECS service's rollout, watched to its end: the PRIMARY deployment's rolloutState
reaches COMPLETED, or FAILED when the circuit breaker (or a deployment alarm) rolled it back.
ECS's service events are streamed while the services stack changes, new ones only, beside
the stack's own events; the time each rollout took is AWS's (the deployment's createdAt to
its updatedAt)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fargo.aws.facade import Aws
from fargo.progress import Reporter

# DescribeServices takes at most 10 services a call.
_BATCH = 10
_DONE = frozenset({"COMPLETED", "FAILED"})


@dataclass(frozen=True)
class Rollout:
    service: str
    state: str  # COMPLETED | FAILED | IN_PROGRESS (still rolling when the wait ran out)
    reason: str
    seconds: float | None

    def to_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "state": self.state,
            "reason": self.reason,
            "seconds": self.seconds,
        }

    def line(self) -> str:
        took = f" in {self.seconds:.0f} s" if self.seconds is not None else ""
        reason = f": {self.reason}" if self.reason and self.state != "COMPLETED" else ""
        return f"{self.service}: rollout {self.state}{took}{reason}"


class RolloutWatcher:
    """`start` before the services stack changes, `finish` after it: the events in between
    are reported as they come, and `finish` waits for every rollout to end."""

    def __init__(
        self,
        aws: Aws,
        reporter: Reporter,
        cluster: str,
        services: Iterable[str],
        *,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 3600.0,
    ) -> None:
        self._aws = aws
        self._reporter = reporter
        self._cluster = cluster
        self._services = tuple(services)
        self._poll = poll_seconds
        self._timeout = timeout_seconds
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Note the events there are already, then stream new ones in the background."""
        self._report(self._describe(), quiet=True)
        self._thread = threading.Thread(target=self._stream, name="ecs-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def finish(self) -> tuple[Rollout, ...]:
        self.stop()
        deadline = self._aws.clock() + self._timeout
        while True:
            described = self._describe()
            self._report(described)
            rollouts = tuple(_rollout(s) for s in described)
            if all(r.state in _DONE for r in rollouts) or self._aws.clock() > deadline:
                for rollout in rollouts:
                    self._reporter.note(rollout.line())
                return rollouts
            self._aws.sleep(self._poll)

    def _stream(self) -> None:
        while not self._stop.wait(self._poll):
            self._report(self._describe())

    def _describe(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for i in range(0, len(self._services), _BATCH):
            batch = list(self._services[i : i + _BATCH])
            answer = self._aws.call(
                "ecs", "describe_services", cluster=self._cluster, services=batch
            )
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
    primary = next(
        (d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), None
    )
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
