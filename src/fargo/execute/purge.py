"""`destroy --purge`: delete what outlives an environment's stacks, once they are gone.

Buckets and queues are `Retain` and the database and node caches leave a final snapshot,
so a plain destroy keeps data (and its bill). A preview has nothing worth keeping: purging
it leaves nothing billed behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fargo.aws.facade import Aws
from fargo.errors import AwsError, UnsafeChange
from fargo.manifest.load import LoadedManifest
from fargo.progress import Reporter

LeftoverKind = Literal["bucket", "queue", "db-snapshot", "db-cluster-snapshot", "cache-snapshot"]


@dataclass(frozen=True)
class Leftover:
    """Something a deleted stack left behind: a retained resource or a final snapshot."""

    kind: LeftoverKind
    identifier: str  # bucket name, queue URL, snapshot identifier

    def describe(self) -> str:
        return f"{self.kind.replace('-', ' ')} {self.identifier}"


# Error codes that mean the thing is already gone: purging it again is not a failure.
_GONE = {
    "NoSuchBucket",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "DBSnapshotNotFound",
    "DBSnapshotNotFoundFault",
    "DBClusterSnapshotNotFoundFault",
    "SnapshotNotFoundFault",
}
# A final snapshot is still being written right after its store was deleted.
_BUSY = {"InvalidDBSnapshotState", "InvalidDBClusterSnapshotStateFault", "InvalidSnapshotState"}
_BUSY_ATTEMPTS = 60
_BUSY_WAIT_SECONDS = 10.0


def refuse_purge(loaded: LoadedManifest, *, allow_data_loss: bool) -> None:
    """Purging deletes data for good: a preview's is disposable, any other needs the flag."""
    if loaded.preview or allow_data_loss:
        return
    raise UnsafeChange(
        f"--purge deletes `{loaded.env}`'s buckets, queues and final snapshots for good; "
        "nothing was deleted",
        hint="pass --allow-data-loss as well to purge an environment that is not a preview, "
        "or leave out --purge to keep them",
    )


class Purger:
    def __init__(self, aws: Aws, reporter: Reporter) -> None:
        self._aws = aws
        self._reporter = reporter
        self._deleters: dict[LeftoverKind, Callable[[str], object]] = {
            "bucket": self._bucket,
            "queue": self._queue,
            "db-snapshot": lambda name: self._aws.call(
                "rds", "delete_db_snapshot", DBSnapshotIdentifier=name
            ),
            "db-cluster-snapshot": lambda name: self._aws.call(
                "rds", "delete_db_cluster_snapshot", DBClusterSnapshotIdentifier=name
            ),
            "cache-snapshot": lambda name: self._aws.call(
                "elasticache", "delete_snapshot", SnapshotName=name
            ),
        }

    def purge(self, leftovers: list[Leftover]) -> tuple[str, ...]:
        """Delete each leftover; what was deleted, as `kind identifier` lines."""
        purged: list[str] = []
        for leftover in leftovers:
            self._reporter.note(f"purging {leftover.describe()}")
            if self._delete(leftover):
                purged.append(leftover.describe())
        return tuple(purged)

    def _delete(self, leftover: Leftover) -> bool:
        for _ in range(_BUSY_ATTEMPTS):
            try:
                self._deleters[leftover.kind](leftover.identifier)
            except AwsError as error:
                if error.code in _GONE:
                    return False
                if error.code not in _BUSY:
                    raise
                self._aws.sleep(_BUSY_WAIT_SECONDS)
            else:
                return True
        raise AwsError(
            f"{leftover.describe()} is still being written; it was not deleted",
            hint="run destroy --purge again in a few minutes",
        )

    def _bucket(self, name: str) -> None:
        # A versioned bucket keeps every version and delete marker; S3 refuses to delete a
        # bucket until all of them are gone. Listing from the start after each batch is
        # enough: the batch just deleted no longer appears.
        while True:
            page = self._aws.call("s3", "list_object_versions", Bucket=name, MaxKeys=1000)
            objects = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if not objects:
                break
            result = self._aws.call(
                "s3", "delete_objects", Bucket=name, Delete={"Objects": objects, "Quiet": True}
            )
            errors = result.get("Errors", [])
            if errors:
                first = errors[0]
                raise AwsError(
                    f"s3:delete_objects in {name} failed for {len(errors)} objects, e.g. "
                    f"{first.get('Key')}: {first.get('Code')}: {first.get('Message')}",
                    hint="check the bucket's policy and object lock, then run destroy "
                    "--purge again",
                    code=first.get("Code"),
                )
        self._aws.call("s3", "delete_bucket", Bucket=name)

    def _queue(self, url: str) -> None:
        self._aws.call("sqs", "delete_queue", QueueUrl=url)
