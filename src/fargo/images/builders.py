"""The three local image builders and the choice between them.

Which builder a machine has varies: a developer's laptop has Docker, a Linux CI runner or a
container often only podman or buildah, and Docker is only usable with its buildx plugin
(only buildkit exports an OCI layout) and a daemon that answers. `select_builder` tries
them in that order, docker, podman, buildah, and when none works says why each did not and
what else there is, including a remote build on CodeBuild.

buildah keeps its images in a storage root of fargo's own (`<user cache dir>/fargo/buildah`)
rather than the user's `containers-storage`, so a deploy never fills, locks or changes the
user's images; `Buildah(storage=None)` uses the user's storage when they ask for it. That
storage uses the `vfs` driver, which needs no kernel overlay support and no fuse (neither is
a given in a container or a CI runner); as root, builds run with `--isolation chroot`,
which needs no user namespaces or OCI runtime either.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

import platformdirs

from fargo.errors import FargoError
from fargo.images.build import (
    Builder,
    BuilderName,
    BuildRequest,
    BuiltImage,
    LineSink,
    NoBuilder,
    finish_layout,
    ignore_line,
    start_layout,
)
from fargo.images.build_process import probe, run_step

IMAGE_ID = re.compile(r"^[0-9a-f]{64}$")
# Named in every "no builder" error: what to write instead of building here, a build in
# AWS CodeBuild (see codebuild.py) or an image pushed by other means.
CODEBUILD_OPTION = "build: { remote: codebuild }"
REMOTE_OPTION = "image: REGISTRY/REPO:TAG"


def default_buildah_storage() -> Path:
    return Path(platformdirs.user_cache_dir("fargo")) / "buildah"


def _build_args(request: BuildRequest) -> list[str]:
    args = ["--platform", request.platform, "-f", str(request.dockerfile_path)]
    if request.target:
        args += ["--target", request.target]
    for key, value in sorted(request.build_args.items()):
        args += ["--build-arg", f"{key}={value}"]
    return args


class Buildah:
    """buildah: daemonless, runs as root in a container with chroot isolation and vfs."""

    name: Final[BuilderName] = "buildah"

    def __init__(self, executable: str = "buildah", *, storage: Path | None = None) -> None:
        self.executable = executable
        self.storage = storage
        self.as_root = os.geteuid() == 0

    @property
    def global_args(self) -> list[str]:
        if self.storage is None:
            return []  # the user's own storage, with the driver their storage.conf names
        return [
            "--root",
            str(self.storage / "root"),
            "--runroot",
            str(self.storage / "run"),
            "--storage-driver",
            "vfs",
        ]

    def command(self, *args: str) -> list[str]:
        return [self.executable, *self.global_args, *args]

    def build(self, request: BuildRequest, *, on_line: LineSink = ignore_line) -> BuiltImage:
        partial = start_layout(request)
        isolation = ["--isolation", "chroot"] if self.as_root else []
        bud = self.command(
            "bud",
            *isolation,
            # Keep each step's layer, so an unchanged step is not run again next deploy.
            "--layers",
            # A failed step's working container would otherwise stay in storage for good.
            "--force-rm",
            f"--pull={request.pull}",
            *_build_args(request),
            "-t",
            request.local_name,
            str(request.context),
        )
        run_step(bud, on_line, what=f"building {request.name}", builder=self.name)
        push = self.command("push", request.local_name, f"oci:{partial}:{request.tag}")
        run_step(push, on_line, what=f"writing {request.name} to {partial}", builder=self.name)
        return finish_layout(request, self.name)

    def import_layout(self, layout: Path, name: str, *, tag: str = "latest") -> None:
        """Make an OCI layout a local image `name`, so `FROM name` builds with no registry.

        buildah names what it pulls from `oci:` after the layout's path; the tag adds the
        name a Dockerfile can use.
        """
        pulled: list[str] = []
        run_step(
            self.command("pull", "--quiet", f"oci:{layout}:{tag}"),
            pulled.append,
            what=f"importing {layout}",
            builder=self.name,
        )
        image_id = next((line for line in reversed(pulled) if IMAGE_ID.match(line)), None)
        if image_id is None:
            raise FargoError(
                f"buildah imported {layout} but printed no image id",
                hint="its output was: " + " / ".join(pulled[-5:]),
            )
        run_step(
            self.command("tag", image_id, name),
            ignore_line,
            what=f"naming {image_id} {name}",
            builder=self.name,
        )

    @staticmethod
    def unusable(executable: str) -> str | None:
        return probe([executable, "version"])


class Podman:
    """podman: daemonless like buildah; uses the user's podman storage and configuration."""

    name: Final[BuilderName] = "podman"

    def __init__(self, executable: str = "podman") -> None:
        self.executable = executable
        self.as_root = os.geteuid() == 0

    def build(self, request: BuildRequest, *, on_line: LineSink = ignore_line) -> BuiltImage:
        partial = start_layout(request)
        build = [
            self.executable,
            "build",
            # As for buildah: root in a container often has no cgroup or namespace rights
            # for an OCI runtime (crun: "cgroups in hybrid mode not supported").
            *(["--isolation", "chroot"] if self.as_root else []),
            f"--pull={request.pull}",
            *_build_args(request),
            "-t",
            request.local_name,
            str(request.context),
        ]
        run_step(build, on_line, what=f"building {request.name}", builder=self.name)
        push = [self.executable, "push", request.local_name, f"oci:{partial}:{request.tag}"]
        run_step(push, on_line, what=f"writing {request.name} to {partial}", builder=self.name)
        return finish_layout(request, self.name)

    @staticmethod
    def unusable(executable: str) -> str | None:
        return probe([executable, "version"])


class DockerBuildx:
    """docker buildx: buildkit writes an OCI layout tarball, which is unpacked in place."""

    name: Final[BuilderName] = "docker"
    # Only buildkit's docker-container (or remote, kubernetes) drivers export OCI, or the
    # docker driver with the containerd image store: the classic docker driver cannot.
    DRIVER_HINT = (
        "if it says the docker driver does not support the OCI exporter, create a buildkit "
        "builder once with `docker buildx create --use`, or turn on Docker's containerd "
        "image store"
    )

    def __init__(self, executable: str = "docker") -> None:
        self.executable = executable

    def build(self, request: BuildRequest, *, on_line: LineSink = ignore_line) -> BuiltImage:
        partial = start_layout(request)
        with tempfile.TemporaryDirectory(dir=partial.parent, prefix=".fargo-build-") as scratch:
            tarball = Path(scratch) / "image.tar"
            build = [
                self.executable,
                "buildx",
                "build",
                "--progress=plain",
                # One image manifest, not an index with attestations: the same shape every
                # builder writes, and what the task definition's digest names.
                "--provenance=false",
                "--sbom=false",
                *(["--pull"] if request.pull == "always" else []),
                *_build_args(request),
                "--output",
                f"type=oci,dest={tarball},name={request.local_name}",
                str(request.context),
            ]
            run_step(
                build,
                on_line,
                what=f"building {request.name}",
                builder=self.name,
                hint=f"the lines above are docker's own; {self.DRIVER_HINT}; rerun it alone: "
                f"{shlex.join(build)}",
            )
            extract_layout(tarball, partial)
        return finish_layout(request, self.name)

    @staticmethod
    def unusable(executable: str) -> str | None:
        return probe([executable, "buildx", "version"]) or probe([executable, "info"])


def extract_layout(tarball: Path, dest: Path) -> None:
    """Unpack an OCI layout tarball: regular files and directories only, all inside `dest`."""
    dest.mkdir(parents=True)
    root = dest.resolve()
    with tarfile.open(tarball) as tar:
        for member in tar:
            target = (root / member.name).resolve()
            if not target.is_relative_to(root) or not (member.isdir() or member.isfile()):
                raise FargoError(
                    f"the OCI layout docker wrote holds an unexpected entry: {member.name}",
                    hint="a layout has only oci-layout, index.json and blobs/; report this",
                )
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                continue
            with source, target.open("wb") as out:
                shutil.copyfileobj(source, out)


# Detection order: Docker first, as what most developers have and have configured.
BUILDERS: Final[dict[BuilderName, Callable[[str], str | None]]] = {
    "docker": DockerBuildx.unusable,
    "podman": Podman.unusable,
    "buildah": Buildah.unusable,
}


def _make(name: BuilderName, executable: str, buildah_storage: Path | None) -> Builder:
    if name == "docker":
        return DockerBuildx(executable)
    if name == "podman":
        return Podman(executable)
    return Buildah(executable, storage=buildah_storage)


def select_builder(
    name: BuilderName | None = None,
    *,
    buildah_storage: Path | None = None,
    user_storage: bool = False,
) -> Builder:
    """The builder named, or the first usable one; NoBuilder says why none could be used.

    buildah's images go to `buildah_storage` (default: fargo's cache), or to the user's own
    containers storage with `user_storage=True`.
    """
    storage = None if user_storage else (buildah_storage or default_buildah_storage())
    reasons: dict[BuilderName, str] = {}
    for candidate in [name] if name else list(BUILDERS):
        executable = shutil.which(candidate)
        if executable is None:
            reasons[candidate] = "not found on PATH"
            continue
        reason = BUILDERS[candidate](executable)
        if reason is None:
            return _make(candidate, executable, storage)
        reasons[candidate] = reason
    why = "\n".join(f"  {candidate}: {reason}" for candidate, reason in reasons.items())
    wanted = f"the {name} image builder is not" if name else "no image builder is"
    raise NoBuilder(
        f"{wanted} usable here\n{why}",
        hint=(
            "install one of: Docker with the buildx plugin and a running daemon, Podman, or "
            f"Buildah (`apt-get install buildah`); or build in AWS with `{CODEBUILD_OPTION}` "
            f"under `image:`; or push the image yourself and name it with `{REMOTE_OPTION}`"
        ),
    )
