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


@dataclass(frozen=True)
class DestroyResult:
    deleted: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = field(default_factory=tuple)


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
        deleted, absent, snapshots = [], [], []
        for name in reversed(stack_names):
            deployed = self._cfn.describe(name)
            if deployed is None:
                absent.append(name)
                continue
            databases = self._databases(name)
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
            snapshots.extend(self._final_snapshots(databases))
        return DestroyResult(tuple(deleted), tuple(absent), tuple(snapshots))

    def _databases(self, name: str) -> list[tuple[str, str]]:
        return [
            (r["ResourceType"], r["PhysicalResourceId"])
            for r in self._cfn.resources(name)
            if r["ResourceType"] in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
            and r.get("PhysicalResourceId")
        ]

    def _final_snapshots(self, databases: list[tuple[str, str]]) -> list[str]:
        found: list[str] = []
        for kind, identifier in databases:
            if kind == "AWS::RDS::DBCluster":
                snaps = self._aws.paginate(
                    "rds",
                    "describe_db_cluster_snapshots",
                    "DBClusterSnapshots",
                    DBClusterIdentifier=identifier,
                )
                found += [s["DBClusterSnapshotIdentifier"] for s in snaps]
            else:
                snaps = self._aws.paginate(
                    "rds", "describe_db_snapshots", "DBSnapshots", DBInstanceIdentifier=identifier
                )
                found += [s["DBSnapshotIdentifier"] for s in snaps]
        return found
