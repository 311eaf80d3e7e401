"""RDS DBInstance / DBCluster: change sets that say when a database is replaced.

Gap (ministack 1.5.33): DescribeChangeSet classifies each changed property from
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
"""

from collections.abc import Callable

from ._ministack import PatchError, SUPPORTED_VERSION, attr, module, registered, replace

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


def check_snapshot_policy() -> None:
    """``DeletionPolicy: Snapshot`` needs each type's snapshot handler: it works
    unpatched in 1.5.33, and this fails loudly should a release drop it."""
    for resource_type in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        if "snapshot" not in registered(resource_type):
            raise PatchError(
                f"ministack {SUPPORTED_VERSION} internals moved: {resource_type} "
                "has no snapshot handler, so DeletionPolicy Snapshot would lose data"
            )


def apply() -> None:
    """Report the replacing RDS properties as Always in change sets."""
    stacks = module("ministack.services.cloudformation.stacks")
    # The diff looks the classifier up in its own module's namespace.
    attr(stacks, "_diff_resources")
    replace(stacks, "_property_recreation", _classifier(attr(stacks, "_property_recreation")))
    check_snapshot_policy()
