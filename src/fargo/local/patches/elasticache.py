"""ElastiCache: serverless caches, and snapshots of the node-based ones.

Gap 1 (ministack 1.5.33): its ElastiCache API serves CreateServerlessCache,
DescribeServerlessCaches, ModifyServerlessCache and DeleteServerlessCache, but
its CloudFormation registers no provisioner for AWS::ElastiCache::ServerlessCache,
so a template declaring one fails validation with "Unrecognized resource
types". The provisioner added here goes through those API functions, as
ministack's own ReplicationGroup provisioner does, so the stack's cache is the
one DescribeServerlessCaches lists. Ref is the cache name (lower-cased, as
ElastiCache stores it); GetAtt gives ARN, CreateTime, Status,
FullEngineVersion, Endpoint.Address/Port and ReaderEndpoint.Address/Port, the
ports as strings as the schema types them. Without Docker the endpoint is
ministack's shared plaintext Redis sidecar (REDIS_HOST:REDIS_PORT, "redis:6379"
by default); with Docker it is a TLS Valkey/Redis container, and the create
waits for it. ServerlessCacheName is required, as in the schema; the
create-only properties replace, and a replacement that keeps the name fails
as AWS fails it ("custom-named resource requires replacing").
FinalSnapshotName is dropped on delete: ministack keeps no serverless snapshots.

Gap 2 (ministack 1.5.33): ``DeletionPolicy: Snapshot`` and
``UpdateReplacePolicy: Snapshot`` on AWS::ElastiCache::ReplicationGroup and
CacheCluster delete with no snapshot: neither type has the snapshot handler
the stack engine calls (RDS has one), and the replacement path snapshots
nothing. A final snapshot named ``<id>-final-snapshot`` (``-2``, ``-3``... when
taken) is now made through CreateSnapshot, so DescribeSnapshots lists it.

Gap 3 (ministack 1.5.33): a serverless cache's container gets 30 s to report
``cluster_state:ok`` (``_wait_cluster_ok``, ``redis-cli`` through the engine's exec), else
the cache is create-failed. Through Podman on a busy 2-core machine a first start took
longer; the wait is now at least two minutes, which a healthy start never uses.
"""

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ._ministack import (
    SUPPORTED_VERSION,
    PatchError,
    attr,
    module,
    provisioner_table,
    registered,
    replace,
)
from .rds import _LAST_POLICY, _SNAPSHOT_REPLACED

Props = dict[str, Any]
Provisioned = tuple[str, dict[str, Any]]

_EC = "ministack.services.elasticache"
_PROVISIONERS = "ministack.services.cloudformation.provisioners"
_SERVERLESS = "AWS::ElastiCache::ServerlessCache"
# createOnlyProperties in the resource schema.
_SERVERLESS_REPLACING = (
    "ConnectionType",
    "KmsKeyId",
    "NetworkType",
    "ServerlessCacheName",
    "SnapshotArnsToRestore",
    "SubnetIds",
)
# What ModifyServerlessCache changes in place, and what the template leaves
# out of the create call (write-only, or not modelled by ministack).
_SERVERLESS_MODIFIABLE = (
    "CacheUsageLimits",
    "DailySnapshotTime",
    "Description",
    "Engine",
    "MajorEngineVersion",
    "SecurityGroupIds",
    "SnapshotRetentionLimit",
)
_NOT_SENT = frozenset({"ConnectionType", "FinalSnapshotName", "Tags"})
_BUSY = ("creating", "modifying")
_TIMEOUT_SECONDS = 300.0
# Types with a snapshot and the CreateSnapshot member that names their id.
_SNAPSHOTTED = {
    "AWS::ElastiCache::ReplicationGroup": ("_ec_rg_delete", "ReplicationGroupId"),
    "AWS::ElastiCache::CacheCluster": ("_ec_cluster_delete", "CacheClusterId"),
}


def _ec() -> ModuleType:
    return module(_EC)


def _provisioners() -> ModuleType:
    return module(_PROVISIONERS)


def _call(function: str, params: Props, action: str, resource_type: str = _SERVERLESS) -> None:
    """An ElastiCache API function; a refusal raises ValueError, failing the resource."""
    _provisioners()._ec_call(attr(_ec(), function), params, resource_type, action)


def _cache(name: str) -> Props:
    cache: Props | None = _ec()._serverless_caches.get(name)
    if cache is None:
        raise ValueError(f"{_SERVERLESS} {name} is gone")
    return cache


def _wait_available(name: str) -> Props:
    """Creates and engine changes run in the background with Docker."""
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while (cache := _cache(name))["Status"] in _BUSY:
        if time.monotonic() > deadline:
            raise ValueError(f"{_SERVERLESS} {name} did not become available in time")
        time.sleep(0.5)
    if cache["Status"] != "available":
        raise ValueError(f"{_SERVERLESS} {name} is {cache['Status']}")
    return cache


def _attributes(cache: Props) -> dict[str, Any]:
    endpoint = cache.get("Endpoint") or {}
    reader = cache.get("ReaderEndpoint") or endpoint
    return {
        "ARN": cache["ARN"],
        "CreateTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(cache["CreateTime"])),
        "Status": cache["Status"],
        "FullEngineVersion": cache["FullEngineVersion"],
        "Endpoint.Address": endpoint.get("Address", ""),
        "Endpoint.Port": str(endpoint.get("Port", "")),
        "ReaderEndpoint.Address": reader.get("Address", ""),
        "ReaderEndpoint.Port": str(reader.get("Port", "")),
    }


def _serverless_create(logical_id: str, props: Props, stack_name: str) -> Provisioned:
    if not props.get("ServerlessCacheName"):
        raise ValueError(
            f"Properties validation failed for resource {logical_id} with message: "
            "#: required key [ServerlessCacheName] not found"
        )
    name = str(props["ServerlessCacheName"]).lower()
    sent = {k: v for k, v in props.items() if k not in _NOT_SENT}
    _call("_create_serverless_cache", _provisioners()._ec_query(sent), "create")
    cache = _wait_available(name)
    _provisioners()._ec_sync_tags(cache["ARN"], {}, props, _SERVERLESS)
    return name, _attributes(cache)


def _modification(old_props: Props, new_props: Props) -> Props:
    """ModifyServerlessCache members for what changed; a dropped one goes back."""
    changed = {
        k: new_props[k]
        for k in _SERVERLESS_MODIFIABLE
        if k in new_props and new_props[k] != old_props.get(k)
    }
    if "CacheUsageLimits" in old_props and "CacheUsageLimits" not in new_props:
        # All-zero limits remove them (AWS "Pre-Scaling" guide; ministack too).
        changed["CacheUsageLimits"] = {"DataStorage": {"Maximum": 0, "Unit": "GB"}}
    if "SnapshotRetentionLimit" in old_props and "SnapshotRetentionLimit" not in new_props:
        changed["SnapshotRetentionLimit"] = 0
    if "Description" in old_props and "Description" not in new_props:
        changed["Description"] = ""
    params: Props = _provisioners()._ec_query(changed)
    if new_props.get("UserGroupId") != old_props.get("UserGroupId"):
        if new_props.get("UserGroupId"):
            params["UserGroupId"] = str(new_props["UserGroupId"])
        else:
            params["RemoveUserGroup"] = "true"
    return params


def _serverless_update(
    physical_id: str, old_props: Props, new_props: Props, stack_name: str
) -> Provisioned:
    """The create-only properties replace (the engine does that); the rest
    changes in place through ModifyServerlessCache."""
    params = _modification(old_props, new_props)
    if params:
        _wait_available(physical_id)
        _call("_modify_serverless_cache", {"ServerlessCacheName": physical_id, **params}, "update")
    cache = _wait_available(physical_id)
    _provisioners()._ec_sync_tags(cache["ARN"], old_props, new_props, _SERVERLESS)
    return physical_id, _attributes(cache)


def _serverless_delete(physical_id: str, props: Props) -> None:
    if _ec()._serverless_caches.get(physical_id) is not None:
        _call("_delete_serverless_cache", {"ServerlessCacheName": physical_id}, "delete")


def provision_serverless_caches() -> None:
    """Closes gap 1 in the module docstring."""
    ec = _ec()
    for name in (
        "_create_serverless_cache",
        "_modify_serverless_cache",
        "_delete_serverless_cache",
        "_serverless_caches",
    ):
        attr(ec, name)
    for name in ("_ec_call", "_ec_query", "_ec_sync_tags"):
        attr(_provisioners(), name)
    handlers = provisioner_table("_RESOURCE_HANDLERS")
    if _SERVERLESS in handlers:
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: it now provisions {_SERVERLESS}"
        )
    handlers[_SERVERLESS] = {
        "create": _serverless_create,
        "update": _serverless_update,
        "delete": _serverless_delete,
    }
    provisioner_table("_REPLACING_PROPERTIES")[_SERVERLESS] = _SERVERLESS_REPLACING
    # A replacement under an unchanged name is refused, as on AWS.
    provisioner_table("_CUSTOM_NAME_REPLACEMENT")[_SERVERLESS] = {"name": "ServerlessCacheName"}
    # It blocks while its container starts: provisioner_threads runs it off the event loop.


def _snapshot_name(physical_id: str) -> str:
    base = str(_provisioners()._snapshot_id(physical_id))
    taken = _ec()._snapshots
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _snapshotter(resource_type: str, member: str) -> Callable[[str, Props], None]:
    def snapshot(physical_id: str, props: Props) -> None:
        records = _ec()._replication_groups if member == "ReplicationGroupId" else _ec()._clusters
        if records.get(physical_id) is None:
            return
        params = {"SnapshotName": _snapshot_name(physical_id), member: physical_id}
        _call("_create_snapshot", params, "snapshot", resource_type)

    return snapshot


def _snapshotting(
    delete: Callable[..., None], snapshot: Callable[[str, Props], None]
) -> Callable[..., None]:
    def deleted(physical_id: str, props: Props, *args: Any) -> None:
        if _LAST_POLICY.get() == _SNAPSHOT_REPLACED:
            snapshot(physical_id, props)
        delete(physical_id, props, *args)

    return deleted


def snapshot_node_based_caches() -> None:
    """Closes gap 2 in the module docstring. Relies on the policy recorder the
    rds-update-replace-snapshot patch installs (applied before this one)."""
    stacks = module("ministack.services.cloudformation.stacks")
    if getattr(attr(stacks, "_resource_policy"), "__name__", "") != "looked_up":
        raise PatchError("apply rds-update-replace-snapshot before elasticache snapshots")
    attr(_ec(), "_snapshots")
    attr(_provisioners(), "_snapshot_id")
    for resource_type, (function, member) in _SNAPSHOTTED.items():
        entry = registered(resource_type)
        if "snapshot" in entry or entry["delete"] is not attr(_provisioners(), function):
            raise PatchError(
                f"ministack {SUPPORTED_VERSION} internals moved: {resource_type} "
                f"is no longer deleted through provisioners.{function} without a snapshot"
            )
        entry["snapshot"] = _snapshotter(resource_type, member)
        # The update handler deletes a replaced group through the module
        # function, the cleanup and stack delete through the registry.
        entry["delete"] = _snapshotting(entry["delete"], entry["snapshot"])
        replace(_provisioners(), function, entry["delete"])


_MINIMUM_START_SECONDS = 120.0


def wait_longer_for_cache_starts() -> None:
    """Closes gap 3: ``_wait_cluster_ok`` waits at least ``_MINIMUM_START_SECONDS``."""
    ec = _ec()

    def wait_cluster_ok(container: Any, timeout: float = 15, cli_args: Any = ()) -> bool:
        return bool(original(container, max(timeout, _MINIMUM_START_SECONDS), cli_args))

    original = replace(ec, "_wait_cluster_ok", wait_cluster_ok)
