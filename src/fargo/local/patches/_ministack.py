"""Checked access to ministack internals.

Every patch reaches ministack through these helpers so that a moved or renamed
internal stops the emulator at start-up with a message naming the missing
piece, instead of serving an emulator whose gaps are silently open again.
"""

import importlib
import importlib.metadata
from types import ModuleType
from typing import Any

# The patches read and replace private functions of exactly this release.
SUPPORTED_VERSION = "1.5.33"


class PatchError(RuntimeError):
    """ministack is not the release the patches were written against."""


def check_version() -> None:
    """Refuse any ministack but the one the patches were written against."""
    try:
        found = importlib.metadata.version("ministack")
    except importlib.metadata.PackageNotFoundError as exc:
        raise PatchError("ministack is not installed in this interpreter's environment") from exc
    if found != SUPPORTED_VERSION:
        raise PatchError(
            f"ministack {found} is installed, but fargo's emulator patches are written "
            f"against ministack {SUPPORTED_VERSION}; install ministack=={SUPPORTED_VERSION} "
            "or port src/fargo/local/patches/ to the new release"
        )


def module(name: str) -> ModuleType:
    """Import a ministack module, failing with the name of the one that moved."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: cannot import {name}"
        ) from exc


def attr(owner: ModuleType, name: str) -> Any:
    """A module attribute a patch reads or replaces, failing if it is gone."""
    if not hasattr(owner, name):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: {owner.__name__}.{name} is missing"
        )
    return getattr(owner, name)


def replace(owner: ModuleType, name: str, new: Any) -> Any:
    """Swap a module attribute for ``new`` and hand back the original."""
    original = attr(owner, name)
    setattr(owner, name, new)
    return original


def provisioner_table(name: str) -> dict[str, Any]:
    """One of the CloudFormation provisioners' tables keyed by resource type."""
    table = attr(module("ministack.services.cloudformation.provisioners"), name)
    if not isinstance(table, dict):
        raise PatchError(f"ministack {SUPPORTED_VERSION} internals moved: {name} is not a dict")
    return table


def registered(resource_type: str) -> dict[str, Any]:
    """The provisioner entry ministack registers for a resource type."""
    entry = provisioner_table("_RESOURCE_HANDLERS").get(resource_type)
    if not isinstance(entry, dict):
        raise PatchError(
            f"ministack {SUPPORTED_VERSION} internals moved: no provisioner for {resource_type}"
        )
    return entry


_engine_found: list[bool] = []


def containers_run() -> bool:
    """Whether the emulator runs containers (ECS reaches a container engine). A records-only
    emulator keeps ministack's instant answers; once an engine answered it stays the answer."""
    if not _engine_found and attr(module("ministack.services.ecs"), "_get_docker")() is not None:
        _engine_found.append(True)
    return bool(_engine_found)
