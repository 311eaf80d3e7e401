"""Buckets and queues a stack let go of while AWS still holds them, recorded in the account.

fargo's buckets and queues are `DeletionPolicy: Retain` and `UpdateReplacePolicy: Retain`.
When a manifest edit renames, drops or replaces one (under --allow-data-loss), or its stack
is retired or destroyed, CloudFormation forgets it and AWS keeps it, with its data and its
bill. Each is listed in one SSM parameter per app and environment,
`/fargo/<app>/<env>/leftovers`, so `status` and `destroy` name it wherever they run (CI or a
laptop), and `destroy --purge` deletes it. One that is gone (deleted by hand) drops out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fargo.aws.cloudformation import ResourceChange
from fargo.aws.facade import Aws
from fargo.aws.parameters import read_json, write_json
from fargo.errors import AwsError
from fargo.execute.purge import Leftover, LeftoverKind
from fargo.model.app import App

_VERSION = 1

# The types fargo gives DeletionPolicy and UpdateReplacePolicy Retain.
RETAINED: dict[str, LeftoverKind] = {"AWS::S3::Bucket": "bucket", "AWS::SQS::Queue": "queue"}

# What S3 (HeadBucket answers a bare 404) and SQS say of a bucket or queue that is gone.
_GONE = {
    "404",
    "NoSuchBucket",
    "NotFound",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}


@dataclass(frozen=True)
class Retained:
    """A bucket or queue that outlived its place in a stack."""

    kind: LeftoverKind
    identifier: str  # the bucket's name, the queue's URL
    stack: str
    logical_id: str

    @property
    def leftover(self) -> Leftover:
        return Leftover(self.kind, self.identifier)

    def describe(self) -> str:
        return f"{self.leftover.describe()} (was {self.logical_id} in {self.stack})"

    @property
    def how_to_delete(self) -> str:
        if self.kind == "bucket":
            # A versioned bucket keeps every version: `aws s3 rb --force` alone refuses it.
            return (
                "`fargo destroy --purge` deletes it with the environment; alone, empty it "
                f"(every object version: the S3 console's Empty) and run `aws s3 rb "
                f"s3://{self.identifier}`"
            )
        return (
            "`fargo destroy --purge` deletes it with the environment; alone, run "
            f"`aws sqs delete-queue --queue-url {self.identifier}`"
        )

    def record(self) -> dict[str, str]:
        """What the parameter keeps (SSM's standard tier holds 4 KB)."""
        return {
            "kind": self.kind,
            "identifier": self.identifier,
            "stack": self.stack,
            "logical_id": self.logical_id,
        }

    def to_json(self) -> dict[str, str]:
        return {**self.record(), "delete": self.how_to_delete}

    @classmethod
    def from_record(cls, body: dict[str, Any]) -> Retained:
        kind = _KINDS[body["kind"]]
        return cls(kind, body["identifier"], body["stack"], body["logical_id"])


_KINDS: dict[str, LeftoverKind] = {kind: kind for kind in RETAINED.values()}


def lets_go(changes: Iterable[ResourceChange]) -> bool:
    """Whether a change set may leave a retained resource behind: it removes one, or may
    replace one (the old one is kept under UpdateReplacePolicy Retain)."""
    return any(
        c.resource_type in RETAINED
        and (c.action == "Remove" or c.replacement in ("True", "Conditional"))
        for c in changes
    )


def retained_in(stack: str, resources: list[dict[str, Any]]) -> list[Retained]:
    """The retained-type resources of a stack, from ListStackResources."""
    return [
        Retained(
            RETAINED[r["ResourceType"]], r["PhysicalResourceId"], stack, r["LogicalResourceId"]
        )
        for r in resources
        if r["ResourceType"] in RETAINED and r.get("PhysicalResourceId")
    ]


def let_go(before: list[Retained], after: list[dict[str, Any]]) -> list[Retained]:
    """Of the retained resources a stack had before an update, those it no longer has."""
    still = {r.get("PhysicalResourceId") for r in after}
    return [r for r in before if r.identifier not in still]


def parameter_name(app: App) -> str:
    return f"/fargo/{app.name}/{app.env}/leftovers"


class LeftoverStore:
    """The record's SSM parameter for one app and environment."""

    def __init__(self, aws: Aws, app: App) -> None:
        self._aws = aws
        self._app = app

    def read(self) -> list[Retained]:
        body = read_json(self._aws, parameter_name(self._app)) or {}
        return [Retained.from_record(item) for item in body.get("leftovers", [])]

    def existing(self, recorded: list[Retained] | None = None) -> list[Retained]:
        """Of the recorded leftovers (read now unless given), those AWS still holds."""
        return [r for r in (self.read() if recorded is None else recorded) if self._exists(r)]

    def add(self, kept: Iterable[Retained]) -> None:
        recorded = self.read()
        new = [r for r in kept if r.identifier not in {k.identifier for k in recorded}]
        if new:
            self.write([*recorded, *new])

    def write(self, kept: list[Retained]) -> None:
        """Store exactly `kept`; with nothing left, the parameter is deleted."""
        body = {"version": _VERSION, "leftovers": [r.record() for r in kept]}
        write_json(
            self._aws,
            parameter_name(self._app),
            body if kept else None,
            f"buckets and queues {self._app.name}/{self._app.env}'s stacks let go of "
            "(DeletionPolicy Retain); read by status and destroy",
        )

    def _exists(self, kept: Retained) -> bool:
        try:
            if kept.kind == "bucket":
                self._aws.call("s3", "head_bucket", Bucket=kept.identifier)
            else:
                self._aws.call(
                    "sqs", "get_queue_attributes", QueueUrl=kept.identifier, AttributeNames=["All"]
                )
        except AwsError as error:
            if error.code in _GONE:
                return False
            raise
        return True
