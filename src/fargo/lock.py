"""One writer per app and environment: a lease on a DynamoDB item in the bootstrap stack's
lock table, taken and kept with conditional writes.

- Take: PutItem on `<app>/<env>` if no item is there or its lease ran out
  (`attribute_not_exists(pk) OR lease_expires < :now`). A lease that ran out belongs to a
  process that stopped without releasing it (kill -9, a lost runner); taking it over says so.
- Keep: a background thread renews the lease every `renew_seconds` (UpdateItem conditioned
  on this holder's token), so a long deploy keeps it and a killed one loses it in one lease.
- Release: DeleteItem conditioned on the token, when the command ends however it ends.

Every write is safe to repeat: a take whose answer was lost finds its own token and holds
the lock; a release whose answer was lost finds the item gone. Leases are compared in wall
clock time across machines, so their clocks must agree to well within a lease (NTP does).
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from fargo.aws.facade import Aws
from fargo.errors import AwsError, FargoError
from fargo.progress import Reporter
from fargo.synth.bootstrap import LOCK_KEY

LEASE_SECONDS = 90.0
RENEW_SECONDS = 20.0
# Polling for a held lock: 1 s, doubling, at most this far apart.
MAX_POLL_SECONDS = 15.0
_CONDITION_FAILED = "ConditionalCheckFailedException"


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock: enough to find them and ask."""

    token: str
    who: str  # user@host
    pid: int
    command: str
    since: str  # ISO 8601, UTC
    lease_expires: float  # seconds since the epoch
    run: str = ""  # the CI run's URL, when the holder ran in CI

    def describe(self) -> str:
        where = f", {self.run}" if self.run else ""
        return f"`{self.command}` by {self.who} (pid {self.pid}{where}), since {self.since}"

    def item(self, key: str) -> dict[str, Any]:
        item = {
            LOCK_KEY: {"S": key},
            "token": {"S": self.token},
            "who": {"S": self.who},
            "pid": {"N": str(self.pid)},
            "command": {"S": self.command},
            "since": {"S": self.since},
            "lease_expires": {"N": f"{self.lease_expires:.3f}"},
        }
        if self.run:
            item["run"] = {"S": self.run}
        return item

    @classmethod
    def of(cls, item: dict[str, Any]) -> Holder:
        def text(name: str) -> str:
            return str(item.get(name, {}).get("S", ""))

        def number(name: str) -> float:
            return float(item.get(name, {}).get("N", "0"))

        return cls(
            token=text("token"),
            who=text("who") or "someone",
            pid=int(number("pid")),
            command=text("command") or "a command",
            since=text("since") or "an unknown time",
            lease_expires=number("lease_expires"),
            run=text("run"),
        )


class LockHeld(FargoError):  # noqa: N818 - the name users see in --json output
    """Another command holds the app's lock, and it was not released in time."""

    def __init__(self, key: str, holder: Holder, waited: float) -> None:
        lease = datetime.fromtimestamp(holder.lease_expires, UTC).strftime("%H:%M:%S UTC")
        waited_text = f" after waiting {waited:.0f} s" if waited else ""
        super().__init__(
            f"{key} is locked by {holder.describe()}{waited_text}; nothing was changed",
            hint="wait for it to finish, or pass --wait 10m to wait for it; if that process "
            f"is gone, its lease runs out at {lease} and the next command takes the lock over",
        )
        self.holder = holder

    def to_json(self) -> dict[str, object]:
        data = super().to_json()
        data["holder"] = {
            "who": self.holder.who,
            "pid": self.holder.pid,
            "command": self.holder.command,
            "since": self.holder.since,
            "run": self.holder.run or None,
        }
        return data


class LockLost(FargoError):  # noqa: N818 - the name users see in --json output
    """The lease ran out while the command worked, and another command took the lock."""


def current_holder(command: str, lease_expires: float, now: datetime) -> Holder:
    """This process, as the lock records it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        user = f"uid {os.getuid()}"
    return Holder(
        token=str(uuid.uuid4()),
        who=f"{user}@{socket.gethostname()}",
        pid=os.getpid(),
        command=command,
        since=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        lease_expires=lease_expires,
        run=_ci_run(),
    )


def _ci_run() -> str:
    """The CI run this process belongs to, from the variables CI services set."""
    env = os.environ
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return env.get("CI_JOB_URL") or env.get("BUILD_URL") or ""


class DeployLock:
    """The lock of one app and environment; `with lock:` holds it for the block."""

    def __init__(
        self,
        aws: Aws,
        table: str,
        key: str,
        command: str,
        reporter: Reporter,
        *,
        wait_seconds: float = 0.0,
        lease_seconds: float = LEASE_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._aws = aws
        self._table = table
        self.key = key
        self._command = command
        self._reporter = reporter
        self._wait = wait_seconds
        self._lease = lease_seconds
        self._renew = renew_seconds
        self._now = now
        self._holder: Holder | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.lost: Holder | None = None  # who took the lock over while this one held it

    def __enter__(self) -> DeployLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        if self.lost is not None and error is None:
            raise LockLost(
                f"{self.key}: the lock's lease ran out while {self._command} ran, and "
                f"{self.lost.describe()} took it over",
                hint="the two may have changed the same stacks; run `fargo plan` to see "
                "where they stand, then deploy again",
            )

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait_seconds` while another command holds it."""
        started = self._aws.clock()
        delay = 1.0
        waiting = False
        while True:
            holder = self._take()
            if holder is None:
                break
            waited = self._aws.clock() - started
            if waited >= self._wait:
                raise LockHeld(self.key, holder, waited)
            if not waiting:
                self._reporter.note(
                    f"{self.key} is locked by {holder.describe()}; waiting up to {self._wait:.0f} s"
                )
                waiting = True
            self._aws.sleep(min(delay, self._wait - waited))
            delay = min(delay * 2, MAX_POLL_SECONDS)
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._keep, name="fargo-lock", daemon=True)
        self._heartbeat.start()

    def release(self) -> None:
        """Let the lock go; a lock another command took over is left to it."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        holder, self._holder = self._holder, None
        if holder is None or self.lost is not None:
            return
        try:
            self._call(
                "delete_item",
                Key=self._key(),
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": holder.token}},
            )
        except AwsError as error:
            if error.code != _CONDITION_FAILED:
                raise
            # Gone (a repeated delete whose first answer was lost) or taken over.
            current = self._read()
            if current is not None and current.token != holder.token:
                self.lost = current

    def _take(self) -> Holder | None:
        """None once this process holds the lock; else whoever holds it."""
        now = self._now()
        mine = self._holder or current_holder(
            self._command, now + self._lease, datetime.fromtimestamp(now, UTC)
        )
        mine = replace(mine, lease_expires=now + self._lease)
        try:
            replaced = self._call(
                "put_item",
                Item=mine.item(self.key),
                ConditionExpression="attribute_not_exists(#pk) OR lease_expires < :now",
                ExpressionAttributeNames={"#pk": LOCK_KEY},
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}},
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except AwsError as error:
            if error.code != _CONDITION_FAILED:
                raise
            current = self._read()
            if current is None:  # released between the two calls: try again at once
                return self._take()
            if current.token != mine.token:
                return current
            replaced = None  # our own put, repeated after its answer was lost
        self._holder = mine
        if replaced:
            stale = Holder.of(replaced)
            if stale.token != mine.token:
                ended = datetime.fromtimestamp(stale.lease_expires, UTC)
                self._reporter.note(
                    f"took over the lock of {self.key} from {stale.describe()}: its lease ran "
                    f"out at {ended.strftime('%Y-%m-%dT%H:%M:%SZ')}, so that process stopped "
                    "without releasing it; the stacks are read afresh"
                )
        return None

    def _keep(self) -> None:
        """The heartbeat: renew the lease until released, or until someone took it over."""
        while not self._stop.wait(self._renew):
            holder = self._holder
            if holder is None:
                return
            try:
                self._call(
                    "update_item",
                    Key=self._key(),
                    UpdateExpression="SET lease_expires = :lease",
                    ConditionExpression="#token = :token",
                    ExpressionAttributeNames={"#token": "token"},
                    ExpressionAttributeValues={
                        ":token": {"S": holder.token},
                        ":lease": {"N": f"{self._now() + self._lease:.3f}"},
                    },
                )
            except AwsError as error:
                if error.code != _CONDITION_FAILED:
                    continue  # a network blip: the lease outlasts several renewals
                self.lost = self._read() or holder
                self._reporter.note(
                    f"{self.key}: lost the lock to {self.lost.describe()}; its lease ran out"
                )
                return

    def _read(self) -> Holder | None:
        item = self._call("get_item", Key=self._key(), ConsistentRead=True).get("Item")
        return Holder.of(item) if item else None

    def _key(self) -> dict[str, Any]:
        return {LOCK_KEY: {"S": self.key}}

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        return self._aws.call("dynamodb", operation, TableName=self._table, **kwargs)
