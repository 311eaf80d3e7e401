"""AWS::RDS::DBInstance: a database the stack creates runs, as one CreateDBInstance makes does.

Gap (ministack 1.5.33): the CloudFormation provisioner writes the instance's record and
nothing else ("CFN provisioning is metadata-only"), so a stack's database has an endpoint
that no server answers: the app's tasks got `database unavailable` for ever. ministack's API
path starts a container for the same record, and its restore path
(``rds._start_rds_container_for_instance``) starts one from a record alone: engine, version,
master credentials (the template's, its Secrets Manager reference already resolved), the
database name, and a host port it keeps.

Here, with a container engine, the stack's create starts that container and the endpoint the
stack hands on (``Fn::GetAtt Endpoint.Address``, the tasks' DB_HOST) is the container's
address on fargo's network, port 5432; the stack's delete removes the container. A
records-only emulator is unchanged.
"""

from collections.abc import Callable
from typing import Any

from ._ministack import attr, module, registered, replace

_RESOURCE_TYPE = "AWS::RDS::DBInstance"


def _running(create: Callable[..., Any]) -> Callable[..., Any]:
    rds = module("ministack.services.rds")
    provisioners = module("ministack.services.cloudformation.provisioners")
    start = attr(rds, "_start_rds_container_for_instance")
    docker = attr(rds, "_get_docker")
    attributes = attr(provisioners, "_rds_db_instance_attrs")
    instances = attr(rds, "_instances")

    def created(logical_id: str, props: dict[str, Any], stack_name: str) -> Any:
        db_id, attrs = create(logical_id, props, stack_name)
        instance = instances.get(db_id)
        if instance is None or docker() is None:
            return db_id, attrs
        start(db_id, instance)
        if instance.get("DBInstanceStatus") == "failed":
            raise RuntimeError(
                f"the container of database {db_id} did not start: see the emulator's log"
            )
        return db_id, attributes(instance)

    return created


def _removing(delete: Callable[..., None]) -> Callable[..., None]:
    rds = module("ministack.services.rds")
    docker = attr(rds, "_get_docker")
    container_name = attr(rds, "_rds_docker_name")

    def deleted(physical_id: str, props: dict[str, Any], *args: Any) -> None:
        delete(physical_id, props, *args)
        client = docker()
        if client is None:
            return
        try:
            client.containers.get(container_name(physical_id)).remove(force=True, v=True)
        except Exception:  # noqa: BLE001 - no container (never started, or already gone)
            return

    return deleted


def run_stack_databases() -> None:
    """Start (and remove) the container of each database a stack creates (and deletes).
    Replacements create and delete through the module functions, the rest through the
    registry, so both are wrapped."""
    provisioners = module("ministack.services.cloudformation.provisioners")
    entry = registered(_RESOURCE_TYPE)
    entry["create"] = _running(entry["create"])
    replace(provisioners, "_rds_db_instance_create", entry["create"])
    entry["delete"] = _removing(entry["delete"])
    replace(provisioners, "_rds_db_instance_delete", entry["delete"])
