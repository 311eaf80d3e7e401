"""A task whose CPU architecture this machine cannot run starts from its image's variant
for this machine, or stops saying why.

Gap (ministack 1.5.33): an ARM64 task definition's container is created with
`platform="linux/arm64"`. On an x86_64 machine without a binfmt/qemu handler, the engine
pulls the arm64 image, creates the container, and its first instruction fails with "exec
format error"; ministack then retries the same image on the host's architecture, which
fails the same way, or, for a multi-platform image, runs whichever variant the engine
picks, and logs neither choice to the task.

Now, when the task's architecture is not the machine's (`platform.machine()`) and the
kernel has no handler that emulates it, the image is looked up in the emulator's ECR: if
it is an image index with a variant for this machine, the task runs that variant, by its
digest, and the emulator's log says so; otherwise the task stops before any container is
created, with `CannotPullContainerError: the image has no linux/amd64 variant and this
machine cannot run linux/arm64 images`. Images from other registries are left as they are.
The task definition and the task's records keep what the template says.
"""

import json
import logging
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._ministack import attr, module, replace

log = logging.getLogger("ministack")

# What `platform.machine()` says on each machine, as OCI's architecture names.
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
# The names binfmt_misc handlers take for each architecture (qemu-user-static, tonistiigi/binfmt).
_EMULATORS = {"amd64": "x86_64", "arm64": "aarch64"}
_BINFMT = "/proc/sys/fs/binfmt_misc"
_INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^@:]+)(?::(?P<tag>[^@/:]+))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


@dataclass(frozen=True)
class HostVariant:
    """The image is an index with a variant for this machine: run that one."""

    digest: str
    platform: str  # linux/amd64


@dataclass(frozen=True)
class CannotRun:
    """Neither the image nor this machine can run the task's architecture."""

    reason: str


Choice = HostVariant | CannotRun | None  # None: run the image as the task definition says


def machine_architecture(machine: str | None = None) -> str | None:
    """This machine's CPU as OCI names it (`amd64`, `arm64`), None for any other."""
    return _MACHINES.get((machine or platform.machine()).lower())


def can_emulate(architecture: str, handlers: Iterable[str] | None = None) -> bool:
    """Whether the kernel runs `architecture`'s binaries through a binfmt handler (qemu).
    Only Linux shares its kernel with the container engine; elsewhere (Docker Desktop's
    VM, which emulates) the engine is trusted to run what it pulls."""
    if handlers is None:
        if sys.platform != "linux":
            return True
        try:
            handlers = [entry.name for entry in Path(_BINFMT).iterdir()]
        except OSError:
            handlers = ()
    name = _EMULATORS[architecture]
    return any(name in handler for handler in handlers)


def choose(wanted: str | None, host: str | None, manifest: Mapping[str, Any] | None) -> Choice:
    """What a task asking for `wanted` (an OCI architecture) runs on a `host` machine that
    cannot emulate it, given its image's manifest or index. None: as the task definition
    says (same architecture, or an image the registry does not hold: its pull says so)."""
    if wanted is None or host is None or wanted == host or manifest is None:
        return None
    wanted_platform, host_platform = f"linux/{wanted}", f"linux/{host}"
    # OCI makes an index's mediaType optional: its manifests list tells it from an image.
    if manifest.get("mediaType") in _INDEX_TYPES or "manifests" in manifest:
        for entry in manifest.get("manifests") or []:
            entry_platform = entry.get("platform") or {}
            if (
                entry_platform.get("os") == "linux"
                and entry_platform.get("architecture") == host
                and isinstance(entry.get("digest"), str)
            ):
                return HostVariant(entry["digest"], host_platform)
    return CannotRun(
        f"the image has no {host_platform} variant and this machine cannot run "
        f"{wanted_platform} images"
    )


def _manifest(image: str) -> tuple[str, Mapping[str, Any] | None] | None:
    """(repository URI, manifest JSON) of an image of the emulator's ECR; None for another
    registry's image, a None manifest when the repository does not hold it."""
    match = _ECR_IMAGE.match(image)
    if match is None:
        return None
    ecr = module("ministack.services.ecr")
    request_scope = attr(module("ministack.core.responses"), "request_scope")
    with request_scope(match["account"], match["region"]):
        _, content, _ = attr(ecr, "_resolve_manifest")(
            match["repository"], match["digest"] or match["tag"] or "latest"
        )
    uri = f"{image.split('/', 1)[0]}/{match['repository']}"
    try:
        data = json.loads(content) if content else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    return uri, data if isinstance(data, dict) else None


def run_host_variants() -> None:
    ecs = module("ministack.services.ecs")
    pull_error = attr(ecs, "_ImagePullError")

    def run_docker_container(
        docker_client: Any, cdef: dict[str, Any], run_kwargs: dict[str, Any], **kwargs: Any
    ) -> Any:
        pinned = str(run_kwargs.get("platform") or "")
        wanted = pinned.removeprefix("linux/") if pinned.startswith("linux/") else None
        host = machine_architecture()
        if wanted is None or host is None or wanted == host or can_emulate(wanted):
            return original(docker_client, cdef, run_kwargs, **kwargs)
        found = _manifest(str(cdef.get("image", "")))
        if found is None:  # another registry's image: the engine decides, as before
            return original(docker_client, cdef, run_kwargs, **kwargs)
        uri, manifest = found
        choice = choose(wanted, host, manifest)
        if isinstance(choice, CannotRun):
            raise pull_error(choice.reason)
        if isinstance(choice, HostVariant):
            log.warning(
                "ECS: %s asks for %s, which this %s machine cannot run; running its image's "
                "%s variant %s",
                cdef.get("name"), pinned, platform.machine(), choice.platform, choice.digest,
            )  # fmt: skip
            cdef = {**cdef, "image": f"{uri}@{choice.digest}"}
            run_kwargs["platform"] = choice.platform
        return original(docker_client, cdef, run_kwargs, **kwargs)

    original = replace(ecs, "_run_docker_container", run_docker_container)
