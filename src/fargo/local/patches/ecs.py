"""AWS::ECS::TaskDefinition and Service: stored shapes and replacement reporting.

Gap 1 (ministack 1.5.33): the TaskDefinition provisioner lower-cases only the
first level of each container definition (plus a few hand-picked lists), so
nested PascalCase keys reach the ECS store unchanged. DescribeTaskDefinition
answers in camelCase and botocore drops members it does not know: Secrets came
back as ``[{}]``, HealthCheck as ``{}``, and the same held for DependsOn,
Ulimits, LinuxParameters, RepositoryCredentials and every other nested list.
The task-level Volumes and PlacementConstraints are stored raw the same way,
and RuntimePlatform and EphemeralStorage are dropped altogether.

Gap 2 (ministack 1.5.33): neither type has an entry in the table of replacing
properties, so DescribeChangeSet classifies every changed property of theirs as
"Conditionally" and every change as Replacement "Conditional". On AWS a new
container definition replaces the task definition (a new revision) and the
service that points at it is modified in place (Replacement "False").
"""

from collections.abc import Callable
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

# Members whose values are maps of user-chosen names (a log driver's options,
# Docker labels, volume driver options): their keys are data, not schema.
_FREE_FORM = frozenset({"Options", "DockerLabels", "DriverOpts", "Labels"})
# Members whose API name is not the template name with a lower-case first letter.
_RENAMED = {
    "EFSVolumeConfiguration": "efsVolumeConfiguration",
    "FSxWindowsFileServerVolumeConfiguration": "fsxWindowsFileServerVolumeConfiguration",
    "FilesystemId": "fileSystemId",
    "IAM": "iam",
    "ProxyConfigurationProperties": "properties",
}
# Task-level properties the provisioner leaves out of the stored definition or
# stores in template case.
_TASK_LEVEL = {
    "Volumes": "volumes",
    "PlacementConstraints": "placementConstraints",
    "RuntimePlatform": "runtimePlatform",
    "EphemeralStorage": "ephemeralStorage",
    "ProxyConfiguration": "proxyConfiguration",
}
# "Update requires: Replacement" in the template reference: for a task
# definition every property but Tags, for a service these five.
_REPLACING = {
    "AWS::ECS::TaskDefinition": (
        "ContainerDefinitions",
        "Cpu",
        "EnableFaultInjection",
        "EphemeralStorage",
        "ExecutionRoleArn",
        "Family",
        "InferenceAccelerators",
        "IpcMode",
        "Memory",
        "NetworkMode",
        "PidMode",
        "PlacementConstraints",
        "ProxyConfiguration",
        "RequiresCompatibilities",
        "RuntimePlatform",
        "TaskRoleArn",
        "Volumes",
    ),
    "AWS::ECS::Service": ("Cluster", "LaunchType", "Role", "SchedulingStrategy", "ServiceName"),
}


def _api_name(key: str) -> str:
    return _RENAMED.get(key) or key[:1].lower() + key[1:]


def to_api_shape(value: Any, *, free_form: bool = False) -> Any:
    """A template value in the ECS API's member names, user-keyed maps untouched."""
    if isinstance(value, list):
        return [to_api_shape(item) for item in value]
    if isinstance(value, dict) and not free_form:
        return {_api_name(k): to_api_shape(v, free_form=k in _FREE_FORM) for k, v in value.items()}
    return value


def _container_definitions(cdefs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Container definitions as RegisterTaskDefinition would have stored them."""
    result = []
    for cdef in cdefs:
        converted = to_api_shape(cdef)
        # ECS fills these in on register; ministack's own RegisterTaskDefinition does too.
        converted.setdefault("cpu", 0)
        converted.setdefault("essential", True)
        result.append(converted)
    return result


def _with_task_level_properties(create: Callable[..., Any]) -> Callable[..., Any]:
    ecs = module("ministack.services.ecs")
    task_defs = attr(ecs, "_task_defs")

    def created(logical_id: str, props: dict[str, Any], stack_name: str) -> Any:
        arn, attributes = create(logical_id, props, stack_name)
        stored = task_defs[arn.rsplit("/", 1)[-1]]
        for prop, key in _TASK_LEVEL.items():
            if prop in props:
                stored[key] = to_api_shape(props[prop])
        return arn, attributes

    return created


def keep_nested_container_settings() -> None:
    """Closes gap 1 in the module docstring: container
    definitions and task-level properties are stored in the ECS API's shape."""
    provisioners = module("ministack.services.cloudformation.provisioners")
    replace(provisioners, "_normalize_container_defs", _container_definitions)
    # The update handler registers a new revision through the module-level
    # create, and the registry holds its own reference: both must see the wrapper.
    create = _with_task_level_properties(attr(provisioners, "_ecs_task_def_create"))
    replace(provisioners, "_ecs_task_def_create", create)
    registered("AWS::ECS::TaskDefinition")["create"] = create


def report_ecs_replacement() -> None:
    """Closes gap 2 in the module docstring. Execution is unchanged in effect: a
    replaced task definition is created as the next revision and the old one
    deregistered in the cleanup phase, as the update handler did before."""
    table = provisioner_table("_REPLACING_PROPERTIES")
    if any(resource_type in table for resource_type in _REPLACING):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: it now classifies ECS replacements"
        )
    table.update(_REPLACING)
