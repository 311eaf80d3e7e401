"""Delete an environment's stacks in reverse deploy order. The database's DeletionPolicy
(Snapshot) leaves a final snapshot, which is looked up and reported, and the buckets and
queues (Retain) are reported with how to delete them."""

from __future__ import annotations

from dataclasses import dataclass, field

from fargo.aws.cloudformation import CloudFormation, DeployedStack
from fargo.aws.facade import Aws
from fargo.errors import DeployFailed, UnsafeChange
from fargo.execute.leftovers import Retained, retained_in
from fargo.execute.purge import Leftover, LeftoverKind, Purger
from fargo.execute.watch import StackWatcher, delete_stack
from fargo.progress import Reporter


@dataclass(frozen=True)
class DestroyResult:
    deleted: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = field(default_factory=tuple)
    retained: tuple[str, ...] = field(default_factory=tuple)
    # What was undone outside CloudFormation: the splice, DNS records, certificates.
    edge: tuple[str, ...] = field(default_factory=tuple)
    # With --purge: the retained resources and final snapshots deleted after the stacks.
    purged: tuple[str, ...] = field(default_factory=tuple)
    # The buckets and queues AWS still holds: `retained` in full, and those an earlier
    # deploy or destroy let go of; with how to delete each.
    leftovers: tuple[Retained, ...] = field(default_factory=tuple)


# Stateful types whose DeletionPolicy is Snapshot → how to find the final snapshot:
# (service, operation, result key, filter argument, snapshot id key, what it is).
_SNAPSHOTTED: dict[str, tuple[str, str, str, str, str, LeftoverKind]] = {
    "AWS::RDS::DBInstance": (
        "rds",
        "describe_db_snapshots",
        "DBSnapshots",
        "DBInstanceIdentifier",
        "DBSnapshotIdentifier",
        "db-snapshot",
    ),
    "AWS::RDS::DBCluster": (
        "rds",
        "describe_db_cluster_snapshots",
        "DBClusterSnapshots",
        "DBClusterIdentifier",
        "DBClusterSnapshotIdentifier",
        "db-cluster-snapshot",
    ),
    "AWS::ElastiCache::ReplicationGroup": (
        "elasticache",
        "describe_snapshots",
        "Snapshots",
        "ReplicationGroupId",
        "SnapshotName",
        "cache-snapshot",
    ),
}


# Database types → (describe call, modify call, identifier argument, result key).
_DATABASES = {
    "AWS::RDS::DBInstance": (
        "describe_db_instances",
        "modify_db_instance",
        "DBInstanceIdentifier",
        "DBInstances",
    ),
    "AWS::RDS::DBCluster": (
        "describe_db_clusters",
        "modify_db_cluster",
        "DBClusterIdentifier",
        "DBClusters",
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

    def destroy(
        self,
        stack_names: tuple[str, ...],
        *,
        allow_data_loss: bool = False,
        purge: bool = False,
        earlier: tuple[Retained, ...] = (),
    ) -> DestroyResult:
        """`stack_names` in deploy order; they are deleted last to first. With `purge`, what
        they leave behind (retained buckets and queues, final snapshots) goes too, and so do
        the `earlier` leftovers (recorded when a deploy or destroy let go of them).

        A database with deletion protection (the production profile) would stop the delete
        halfway, after other data stores are gone; it is checked before anything is touched.
        """
        self._check_deletion_protection(stack_names, allow_data_loss=allow_data_loss)
        deleted: list[str] = []
        absent: list[str] = []
        snapshots: list[Leftover] = []
        retained: list[Retained] = []
        for name in reversed(stack_names):
            deployed = self._settled(name)
            if deployed is None:
                absent.append(name)
                continue
            resources = self._cfn.resources(name)
            stores = [
                (r["ResourceType"], r["PhysicalResourceId"])
                for r in resources
                if r["ResourceType"] in _SNAPSHOTTED and r.get("PhysicalResourceId")
            ]
            # Snapshots the user took before stay theirs: the final snapshots are only those
            # the stack's deletion adds.
            taken_before = set(self._snapshots(stores))
            delete_stack(
                self._watcher,
                deployed,
                why="as asked",
                hint="fix the cause (for example turn off database deletion protection) "
                "and run destroy again",
            )
            deleted.append(name)
            snapshots.extend(s for s in self._snapshots(stores) if s not in taken_before)
            retained.extend(retained_in(name, resources))
        self._confirm_gone(stack_names)
        if purge:
            kept = [r.leftover for r in [*retained, *earlier]]
            purged = Purger(self._aws, self._reporter).purge([*snapshots, *kept])
            return DestroyResult(tuple(deleted), tuple(absent), purged=purged)
        return DestroyResult(
            tuple(deleted),
            tuple(absent),
            tuple(s.identifier for s in snapshots),
            tuple(r.leftover.describe() for r in retained),
            leftovers=(*earlier, *retained),
        )

    def _settled(self, name: str) -> DeployedStack | None:
        """The stack once no operation runs on it: one in progress (say, rolling back) is
        waited out, since it can be neither deleted nor called absent."""
        deployed = self._cfn.describe(name)
        if deployed is None or not deployed.in_progress:
            return deployed
        self._reporter.note(f"{name} is {deployed.status}; waiting for it to settle")
        return self._watcher.follow(name, self._watcher.seen(name, exists=True))[0]

    def _confirm_gone(self, stack_names: tuple[str, ...]) -> None:
        """Every stack is gone, read back once more: destroy never reports success while
        one still stands, whoever made it."""
        standing = [
            f"{name} ({deployed.status})"
            for name in stack_names
            if (deployed := self._cfn.describe(name)) is not None
        ]
        if standing:
            raise DeployFailed(
                f"destroy left {', '.join(standing)} standing",
                hint="another command may have written to this environment; run destroy "
                "again to delete it",
            )

    def _check_deletion_protection(
        self, stack_names: tuple[str, ...], *, allow_data_loss: bool
    ) -> None:
        protected = [
            (kind, identifier)
            for name in stack_names
            if self._cfn.describe(name) is not None
            for r in self._cfn.resources(name)
            if (kind := r["ResourceType"]) in _DATABASES
            and (identifier := r.get("PhysicalResourceId"))
            and self._deletion_protected(kind, identifier)
        ]
        if not protected:
            return
        names = ", ".join(identifier for _, identifier in protected)
        if not allow_data_loss:
            raise UnsafeChange(
                f"database {names} has deletion protection; nothing was deleted",
                hint="pass --allow-data-loss to turn it off and destroy (a final snapshot "
                "is still taken)",
            )
        for kind, identifier in protected:
            self._reporter.note(f"turning deletion protection off on {identifier}, as asked")
            operation, key = _DATABASES[kind][1], _DATABASES[kind][2]
            self._aws.call("rds", operation, **{key: identifier, "DeletionProtection": False})

    def _deletion_protected(self, kind: str, identifier: str) -> bool:
        describe, _, key, result = _DATABASES[kind]
        found = self._aws.call("rds", describe, **{key: identifier}).get(result, [])
        return any(item.get("DeletionProtection") for item in found)

    def _snapshots(self, stores: list[tuple[str, str]]) -> list[Leftover]:
        """Every snapshot of these databases and caches, as they stand now."""
        found: list[Leftover] = []
        for kind, identifier in stores:
            service, operation, key, field_name, id_key, what = _SNAPSHOTTED[kind]
            snaps = self._aws.paginate(service, operation, key, **{field_name: identifier})
            found += [Leftover(what, s[id_key]) for s in snaps]
        return found
