"""Valkey/Redis: ElastiCache Serverless by default, or a node-based replication group.

TLS is always on and only the tasks' security group can connect.
"""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template, elasticache

from fargo.model.app import App, Cache
from fargo.synth import outputs as out
from fargo.synth.common import Inputs, add, output, skip_check
from fargo.synth.network_access import data_security_group

CACHE_PORT = 6379


def add_cache(template: Template, app: App, cache: Cache, inputs: Inputs) -> list[str]:
    """Returns the logical ids that hold data."""
    group = data_security_group(
        template, app, inputs, "CacheSecurityGroup", what="cache", port=CACHE_PORT
    )
    if cache.node_type is None:
        resource = _serverless(template, app, cache, inputs, group)
        host, port = GetAtt(resource, "Endpoint.Address"), GetAtt(resource, "Endpoint.Port")
    else:
        resource = _nodes(template, app, cache, inputs, group)
        host = GetAtt(resource, "PrimaryEndPoint.Address")
        port = GetAtt(resource, "PrimaryEndPoint.Port")
    output(template, out.CACHE_HOST, host)
    output(template, out.CACHE_PORT, port)
    return [resource.title]


def _serverless(
    template: Template, app: App, cache: Cache, inputs: Inputs, group: Ref
) -> elasticache.ServerlessCache:
    extra: dict[str, object] = {}
    if cache.snapshot_retention_days:
        extra["SnapshotRetentionLimit"] = cache.snapshot_retention_days
    resource = elasticache.ServerlessCache(
        "Cache",
        ServerlessCacheName=f"{app.name}-{app.env}-cache",
        Description=f"{app.name}/{app.env} {cache.engine} cache",
        Engine=cache.engine,
        MajorEngineVersion=cache.major_version,
        SecurityGroupIds=[group],
        SubnetIds=inputs.network(out.DATA_SUBNET_IDS),
        **extra,
    )
    # Serverless caches take no DeletionPolicy Snapshot; a replaced or removed cache is
    # refused by the data-loss guard instead.
    resource.UpdateReplacePolicy = "Delete"
    add(template, resource, f"ElastiCache Serverless {cache.engine} {cache.major_version}, TLS")
    return resource


def _nodes(
    template: Template, app: App, cache: Cache, inputs: Inputs, group: Ref
) -> elasticache.ReplicationGroup:
    subnets = add(
        template,
        elasticache.SubnetGroup(
            "CacheSubnetGroup",
            Description=f"{app.name}-{app.env} isolated data subnets",
            SubnetIds=inputs.network(out.DATA_SUBNET_IDS),
        ),
        "places the cache in the isolated data subnets",
    )
    nodes = 1 + cache.replicas
    resource = elasticache.ReplicationGroup(
        "Cache",
        ReplicationGroupDescription=f"{app.name}/{app.env} {cache.engine} cache",
        Engine=cache.engine,
        EngineVersion=cache.major_version + ".0" if cache.engine == "valkey" else "7.1",
        CacheNodeType=cache.node_type,
        NumCacheClusters=nodes,
        AutomaticFailoverEnabled=nodes > 1,
        MultiAZEnabled=nodes > 1,
        TransitEncryptionEnabled=True,
        AtRestEncryptionEnabled=True,
        CacheSubnetGroupName=Ref(subnets),
        SecurityGroupIds=[group],
        SnapshotRetentionLimit=cache.snapshot_retention_days,
        AutoMinorVersionUpgrade=True,
    )
    resource.DeletionPolicy = "Snapshot"
    resource.UpdateReplacePolicy = "Snapshot"
    add(template, resource, f"{cache.engine} on {nodes} x {cache.node_type}, TLS, encrypted")
    skip_check(
        resource,
        "CKV_AWS_31",
        "no AUTH token: the cache is reachable only from the app's task security group, over TLS",
    )
    return resource
