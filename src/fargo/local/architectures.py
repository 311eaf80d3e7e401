"""What `--local` says about services whose `arch` this machine cannot run.

The emulator runs an `arch: arm64` service on an x86_64 machine from its image's
linux/amd64 variant when the image is an index that has one, and otherwise stops its tasks
with the reason (see patches/task_platforms.py, whose decision this shares). Deploy says
which it will be, once per service, after the images are pushed: the pushed manifest is
read back from the emulator's ECR.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping

from fargo.images.ecr import Ecr
from fargo.images.reference import pinned
from fargo.local.patches.task_platforms import (
    CannotRun,
    HostVariant,
    can_emulate,
    choose,
    machine_architecture,
)
from fargo.manifest.fargate import platform_for_arch
from fargo.model.app import App


def architecture_notes(
    ecr: Ecr, app: App, images: Mapping[str, str], *, machine: str | None = None
) -> list[str]:
    """One line per service whose `arch` is not this machine's (`machine`, by default
    `platform.machine()`) and whose image `images` (digest-pinned references by building
    service) names: which variant runs here, or why nothing will."""
    machine = machine or platform.machine()
    host = machine_architecture(machine)
    notes: list[str] = []
    for service in app.services:
        found = pinned(images.get(service.built_by or service.name, ""))
        wanted = platform_for_arch(service.arch).removeprefix("linux/")
        if found is None or host is None or wanted == host:
            continue
        if can_emulate(wanted):
            continue
        manifest = ecr.image_manifest(*found)
        choice = choose(wanted, host, manifest)
        if isinstance(choice, HostVariant):
            notes.append(
                f"{service.name}: arch {service.arch} runs here from its image's "
                f"{choice.platform} variant"
            )
        elif isinstance(choice, CannotRun):
            notes.append(
                f"{service.name}: arch {service.arch}: its image has no linux/{host} variant, "
                f"so it cannot run on this {machine} machine (it deploys, but its "
                "tasks will not start); build it for both platforms or drop arch for local runs"
            )
    return notes
