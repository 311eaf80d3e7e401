"""Delete an environment's stacks in reverse deploy order. The database's DeletionPolicy
(Snapshot) leaves a final snapshot, which is looked up and reported."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from fargo.aws.cloudformation import CloudFormation
from fargo.aws.facade import Aws
from fargo.errors import DeployFailed
from fargo.execute.watch import StackWatcher, root_cause
from fargo.progress import Reporter

# Types whose DeletionPolicy is Retain: they outlive the stack, and the user should know.
_RETAINED = {"AWS::S3::Bucket": "bucket", "AWS::SQS::Queue": "queue"}


@dataclass(frozen=True)
class DestroyResult:
    deleted: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = field(default_factory=tuple)
    retained: tuple[str, ...] = field(default_factory=tuple)


# Stateful types whose DeletionPolicy is Snapshot → how to find the final snapshot:
# (service, operation, result key, filter argument, snapshot id key).
_SNAPSHOTTED = {
    "AWS::RDS::DBInstance": (
        "rds",
        "describe_db_snapshots",
        "DBSnapshots",
        "DBInstanceIdentifier",
        "DBSnapshotIdentifier",
    ),
    "AWS::RDS::DBCluster": (
        "rds",
        "describe_db_cluster_snapshots",
        "DBClusterSnapshots",
        "DBClusterIdentifier",
        "DBClusterSnapshotIdentifier",
    ),
    "AWS::ElastiCache::ReplicationGroup": (
        "elasticache",
        "describe_snapshots",
        "Snapshots",
        "ReplicationGroupId",
        "SnapshotName",
    ),
}


class Destroyer:
    def __init__(
        self, aws: Aws, cloudformation: CloudFormation, watcher: StackWatcher, reporter: Reporter
    ) -> None:
        self._aws = aws
        self._cfn = cloudformation
        self._watcher = watcher
        self._reporter = reporter

    def destroy(self, stack_names: tuple[str, ...]) -> DestroyResult:
        """`stack_names` in deploy order; they are deleted last to first."""
        deleted: list[str] = []
        absent: list[str] = []
        snapshots: list[str] = []
        retained: list[str] = []
        for name in reversed(stack_names):
            deployed = self._cfn.describe(name)
            if deployed is None:
                absent.append(name)
                continue
            resources = self._cfn.resources(name)
            stores = [
                (r["ResourceType"], r["PhysicalResourceId"])
                for r in resources
                if r["ResourceType"] in _SNAPSHOTTED and r.get("PhysicalResourceId")
            ]
            if deployed.termination_protection:
                self._reporter.note(f"{name}: turning termination protection off, as asked")
                self._cfn.set_termination_protection(name, enabled=False)
            self._reporter.stack_started(name, "delete")
            seen = self._watcher.seen(name, exists=True)
            self._cfn.delete_stack(name, token=f"fargo-{uuid.uuid4()}")
            final, events = self._watcher.follow(name, seen, stack_id=deployed.stack_id)
            status = final.status if final else "DELETE_COMPLETE"
            self._reporter.stack_finished(name, status)
            if status != "DELETE_COMPLETE":
                cause = root_cause(events)
                detail = f"{cause.logical_id}: {cause.reason}" if cause else status
                raise DeployFailed(
                    f"{name}: delete failed: {detail}",
                    hint="fix the cause (for example turn off database deletion protection) "
                    "and run destroy again",
                )
            deleted.append(name)
            snapshots.extend(self._final_snapshots(stores))
            retained.extend(
                f"{_RETAINED[r['ResourceType']]} {r['PhysicalResourceId']}"
                for r in resources
                if r["ResourceType"] in _RETAINED
            )
        return DestroyResult(tuple(deleted), tuple(absent), tuple(snapshots), tuple(retained))

    def _final_snapshots(self, stores: list[tuple[str, str]]) -> list[str]:
        found: list[str] = []
        for kind, identifier in stores:
            service, operation, key, field_name, id_key = _SNAPSHOTTED[kind]
            snaps = self._aws.paginate(service, operation, key, **{field_name: identifier})
            found += [s[id_key] for s in snaps]
        return found
