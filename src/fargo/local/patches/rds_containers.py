"""A database a stack creates runs, as one created through the API does.

Gap (ministack 1.5.33): the AWS::RDS::DBInstance provisioner writes the instance record
only ("CFN provisioning is metadata-only"): no database container starts, and the endpoint
is a made-up `<id>.<hex>.<region>.rds.amazonaws.com` that resolves nowhere. An app whose
stack made its database (every fargo app with `database:`) found nothing at DB_HOST, while
CreateDBInstance through the API starts the engine's container.

Now, when the emulator runs containers, the instance a stack creates is made by
CreateDBInstance's own code, from the template's engine, version, class, credentials and
database name, so its container starts (with the local image the data-image patch chooses
where the official one cannot be pulled). Its endpoint is the container's address on the
emulator's network and the engine's port, which both the tasks on that network and the host
reach; the stack's GetAtts (Endpoint.Address, Endpoint.Port) give that address.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, registered

_TYPE = "AWS::RDS::DBInstance"
# Template properties CreateDBInstance takes under the same name.
_PASSED = (
    "Engine",
    "EngineVersion",
    "DBInstanceClass",
    "AllocatedStorage",
    "Port",
    "StorageEncrypted",
    "MultiAZ",
    "BackupRetentionPeriod",
)


def run_stack_databases() -> None:
    rds = module("ministack.services.rds")
    provisioners = module("ministack.services.cloudformation.provisioners")
    create_instance: Callable[[dict[str, Any]], Any] = attr(rds, "_create_db_instance")
    get_docker: Callable[[], Any] = attr(rds, "_get_docker")
    instances: Any = attr(rds, "_instances")
    attrs_of: Callable[[dict[str, Any]], dict[str, str]] = attr(
        provisioners, "_rds_db_instance_attrs"
    )
    entry = registered(_TYPE)
    original: Callable[..., tuple[str, dict[str, str]]] = entry["create"]

    def create(logical_id: str, props: dict[str, Any], stack_name: str) -> Any:
        physical_id, attrs = original(logical_id, props, stack_name)
        record = instances.get(physical_id)
        # Aurora members share their cluster's container; records only without an engine.
        if record is None or record.get("DBClusterIdentifier") or get_docker() is None:
            return physical_id, attrs
        params = {k: [str(props[k])] for k in _PASSED if props.get(k) is not None}
        params |= {
            "DBInstanceIdentifier": [physical_id],
            "MasterUsername": [record["MasterUsername"]],
            "MasterUserPassword": [record["_MasterUserPassword"]],
            "DBName": [record["DBName"]],
        }
        del instances[physical_id]
        create_instance(params)
        started = instances.get(physical_id)
        if started is None:
            # CreateDBInstance refused: keep the stack's record, as before.
            instances[physical_id] = record
            return physical_id, attrs
        # The stack's view (ARN, tags, subnet group, ...) over the running instance's.
        kept = {k: v for k, v in record.items() if k not in ("Endpoint", "DBInstanceStatus")}
        started.update(kept)
        internal = started.get("_internal_address")
        if internal:
            port = started.get("_internal_port") or started["Endpoint"]["Port"]
            started["Endpoint"] = {**started["Endpoint"], "Address": internal, "Port": int(port)}
        instances[physical_id] = started
        return physical_id, attrs_of(started)

    entry["create"] = create
