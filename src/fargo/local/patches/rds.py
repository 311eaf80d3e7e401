"""RDS DBInstance / DBCluster: replacements that are reported and snapshotted.

Gap 1 (ministack 1.5.33): DescribeChangeSet classifies each changed property from
the type schema, where Engine is only *conditionally* create-only, so an engine
change is reported as Replacement "Conditional" (RequiresRecreation
"Conditionally") although executing it replaces the database (ministack's own
update handlers treat Engine as replacing, and so does AWS for every engine
change but a few documented in-place conversions). A data-loss guard that
trusts Replacement "True" let such a change through. DBCluster MasterUsername
is "Update requires: Replacement" in the template reference but conditional in
the schema, and is reported the same wrong way.

Every other property the template reference lists as replacing
(DBInstanceIdentifier, DBName, DBClusterIdentifier, DBSubnetGroupName, KmsKeyId,
StorageEncrypted, MasterUsername, DatabaseName, ...) is already reported as
Replacement "True", and removal as Action "Remove" with the DeletionPolicy as
PolicyAction, so only the classifier the change-set diff uses is patched; the
execution path keeps its own.

Gap 2 (ministack 1.5.33): ``UpdateReplacePolicy: Snapshot`` is ignored. The
update's cleanup phase deletes a replaced database with no snapshot, where AWS
snapshots it first; only the retaining policies are honoured there. (Stack
deletion and removal from the template do honour ``DeletionPolicy: Snapshot``.)
"""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from ._ministack import SUPPORTED_VERSION, PatchError, attr, module, registered, replace

_DATABASES = {
    "AWS::RDS::DBInstance": "_rds_db_instance_delete",
    "AWS::RDS::DBCluster": "_rds_db_cluster_delete",
}
# The policy the stack engine looked up last in this deploy. It looks up a
# resource's policy right before each delete it makes of that resource, and
# UpdateReplacePolicy only in the cleanup of a replacement.
_LAST_POLICY: ContextVar[tuple[str, str] | None] = ContextVar("fargo_last_policy", default=None)
_SNAPSHOT_REPLACED = ("UpdateReplacePolicy", "Snapshot")

_REPLACING = {
    ("AWS::RDS::DBInstance", "Engine"),
    ("AWS::RDS::DBCluster", "Engine"),
    ("AWS::RDS::DBCluster", "MasterUsername"),
}


def _classifier(original: Callable[[str, str], str]) -> Callable[[str, str], str]:
    def property_recreation(resource_type: str, name: str) -> str:
        if (resource_type, name) in _REPLACING:
            return "Always"
        return original(resource_type, name)

    return property_recreation


def _recording(resource_policy: Callable[..., str]) -> Callable[..., str]:
    def looked_up(res_def: Any, attribute: str, *args: Any, **kwargs: Any) -> str:
        policy = resource_policy(res_def, attribute, *args, **kwargs)
        _LAST_POLICY.set((attribute, policy))
        return policy

    return looked_up


def _snapshotting(
    delete: Callable[..., None], snapshot: Callable[..., None]
) -> Callable[..., None]:
    def deleted(physical_id: str, props: dict[str, Any], *args: Any) -> None:
        if _LAST_POLICY.get() == _SNAPSHOT_REPLACED:
            snapshot(physical_id, props)
        delete(physical_id, props, *args)

    return deleted


def check_snapshot_policy() -> None:
    """``DeletionPolicy: Snapshot`` needs each type's snapshot handler: it works
    unpatched in 1.5.33, and this fails loudly should a release drop it."""
    for resource_type in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        if "snapshot" not in registered(resource_type):
            raise PatchError(
                f"ministack {SUPPORTED_VERSION} internals moved: {resource_type} "
                "has no snapshot handler, so DeletionPolicy Snapshot would lose data"
            )


def snapshot_replaced_databases() -> None:
    """Closes gap 2 in the module docstring: the replaced database is
    snapshotted before its delete when its UpdateReplacePolicy is Snapshot.
    Handler-side replacements delete through the module function, the cleanup
    through the registry, so both are wrapped."""
    check_snapshot_policy()
    stacks = module("ministack.services.cloudformation.stacks")
    replace(stacks, "_resource_policy", _recording(attr(stacks, "_resource_policy")))
    provisioners = module("ministack.services.cloudformation.provisioners")
    for resource_type, function in _DATABASES.items():
        entry = registered(resource_type)
        if entry["delete"] is not attr(provisioners, function) or entry.get(
            "delete_with_logical_id"
        ):
            raise PatchError(
                f"ministack {SUPPORTED_VERSION} internals moved: {resource_type} "
                f"is no longer deleted through provisioners.{function}"
            )
        entry["delete"] = _snapshotting(entry["delete"], entry["snapshot"])
        replace(provisioners, function, entry["delete"])


def report_database_replacement() -> None:
    """Closes gap 1 in the module docstring: change sets report the replacing
    RDS properties as RequiresRecreation Always, hence Replacement True."""
    stacks = module("ministack.services.cloudformation.stacks")
    # The change-set diff (stacks._diff_resources) reads the classifier from its
    # own module's namespace; provisioners' copy drives execution and stays.
    attr(stacks, "_diff_resources")
    replace(stacks, "_property_recreation", _classifier(attr(stacks, "_property_recreation")))
