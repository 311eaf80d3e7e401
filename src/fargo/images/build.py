"""Build a service's image from its Dockerfile into an OCI image layout on disk.

A deploy builds every image before it changes any stack, so a broken Dockerfile never
leaves a half-deployed app. The result of a build is a directory in the OCI image layout
format (`oci-layout`, `index.json`, `blobs/sha256/...`) plus the digest of its manifest:
the push client uploads that layout to ECR, and the task definition names the image by
that digest. Three local builders can make it (docker buildx, podman, buildah, see
`builders.py`); each writes the layout its own way and all are read back the same way here.

A layout is first written beside its final place (`<layout>.partial`) and moved there only
when the build succeeded, so a failed build leaves the previous image as it was.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from fargo.errors import FargoError, InputError
from fargo.manifest.fargate import Platform

BuilderName = Literal["docker", "podman", "buildah"]
PullPolicy = Literal["missing", "always", "never"]
# Called with each line a builder prints, as it prints it: the CLI shows live progress.
LineSink = Callable[[str], None]

REF_NAME = "org.opencontainers.image.ref.name"
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
# Docker's tag grammar; builders and registries refuse anything else.
TAG_RULE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# A repository path component, lowercase as image references require.
NAME_RULE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
# How much of a failed builder's output the error carries: the failing step and its cause.
OUTPUT_TAIL_LINES = 40


def ignore_line(line: str) -> None:
    del line


@dataclass(frozen=True)
class BuildRequest:
    """One image to build. `name` names it in messages and in a builder's local storage."""

    name: str
    context: Path
    layout: Path
    dockerfile: Path | None = None  # the context's Dockerfile when None
    target: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    platform: Platform = "linux/amd64"
    tag: str = "latest"
    pull: PullPolicy = "missing"

    def __post_init__(self) -> None:
        if not NAME_RULE.match(self.name):
            raise InputError(
                f"image name `{self.name}` is not a valid image name",
                hint="use lowercase letters, digits, and . _ - / between them",
            )
        if not TAG_RULE.match(self.tag):
            raise InputError(
                f"image tag `{self.tag}` is not a valid tag",
                hint="up to 128 letters, digits, _ . and -, not starting with . or -",
            )
        # The `oci:` transport of podman and buildah splits its reference at ':'.
        if ":" in str(self.layout.absolute()):
            raise InputError(
                f"the image layout path {self.layout} contains ':'",
                hint="choose a build output directory whose path has no ':'",
            )

    @property
    def dockerfile_path(self) -> Path:
        return self.dockerfile if self.dockerfile is not None else self.context / "Dockerfile"

    @property
    def local_name(self) -> str:
        """The image's name in a builder's own storage: never one the user's images have."""
        return f"localhost/fargo/{self.name}:{self.tag}"


@dataclass(frozen=True)
class BuiltImage:
    """A built image: its OCI layout on disk, the tag inside it and its manifest's digest."""

    name: str
    layout: Path
    tag: str
    digest: str
    platform: Platform
    builder: BuilderName


class Builder(Protocol):
    """Something that turns a Dockerfile into an OCI image layout."""

    @property
    def name(self) -> BuilderName: ...

    def build(self, request: BuildRequest, *, on_line: LineSink = ignore_line) -> BuiltImage:
        """Build `request` into `request.layout`, streaming the builder's output to `on_line`.

        Raises BuildFailed with the output's tail when the builder fails.
        """
        ...


class BuildFailed(FargoError):  # noqa: N818 - the name users see in --json output
    """A builder exited non-zero; carries its exit code and the tail of its output."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None,
        builder: str,
        builder_exit_code: int,
        output: list[str],
    ) -> None:
        self.builder = builder
        self.builder_exit_code = builder_exit_code
        self.output_tail = output[-OUTPUT_TAIL_LINES:]
        shown = "\n".join(f"  | {line}" for line in self.output_tail)
        super().__init__(f"{message} (exit {builder_exit_code})\n{shown}", hint=hint)

    def to_json(self) -> dict[str, object]:
        data = super().to_json()
        data["builder"] = self.builder
        data["builder_exit_code"] = self.builder_exit_code
        data["output_tail"] = self.output_tail
        return data


class NoBuilder(InputError):  # noqa: N818 - reads as what it is: nothing to build with
    """No image builder is installed and working here (or not the one asked for)."""


def start_layout(request: BuildRequest) -> Path:
    """Check the request's files and return the empty place a builder writes the layout to."""
    if not request.context.is_dir():
        raise InputError(
            f"build context {request.context} is not a directory",
            hint="`image: { build: DIR }` names a directory, relative to fargo.yml",
        )
    if not request.dockerfile_path.is_file():
        raise InputError(
            f"no Dockerfile at {request.dockerfile_path}",
            hint="add one, or name another file with `dockerfile:` under `image: { build }`",
        )
    layout = request.layout
    if layout.exists() and any(layout.iterdir()) and not (layout / "oci-layout").is_file():
        # Only a layout is ever replaced: this directory holds something else.
        raise InputError(
            f"{layout} exists and is not an OCI image layout",
            hint="choose an empty or new directory for the build output",
        )
    partial = _partial(layout)
    if partial.exists():
        shutil.rmtree(partial)  # left by a build that was interrupted
    partial.parent.mkdir(parents=True, exist_ok=True)
    return partial


def finish_layout(request: BuildRequest, builder: BuilderName) -> BuiltImage:
    """Move a finished layout into place, replacing the previous one, and read its digest."""
    partial = _partial(request.layout)
    digest = layout_digest(partial, request.tag)
    old = request.layout.with_name(f"{request.layout.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if request.layout.exists():
        request.layout.rename(old)
    partial.rename(request.layout)
    if old.exists():
        shutil.rmtree(old)
    return BuiltImage(
        name=request.name,
        layout=request.layout,
        tag=request.tag,
        digest=digest,
        platform=request.platform,
        builder=builder,
    )


def _partial(layout: Path) -> Path:
    return layout.with_name(f"{layout.name}.partial")


def layout_digest(layout: Path, tag: str) -> str:
    """The digest of the manifest `index.json` names `tag`, or of its only manifest."""
    index_file = layout / "index.json"
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as error:
        raise _bad_layout(layout, f"cannot read {index_file}: {error}") from error
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list):
        raise _bad_layout(layout, f"{index_file} has no `manifests` list")
    descriptors = [m for m in manifests if isinstance(m, dict)]
    # buildah and podman name the tag; buildkit may not, but then writes one manifest only.
    named = [d for d in descriptors if (d.get("annotations") or {}).get(REF_NAME) == tag]
    candidates = named or (descriptors if len(manifests) == 1 else [])
    if len(candidates) != 1:
        raise _bad_layout(
            layout, f"{index_file} has {len(manifests)} manifests and none tagged `{tag}`"
        )
    digest = candidates[0].get("digest")
    if candidates[0].get("mediaType") not in MANIFEST_TYPES or not isinstance(digest, str):
        raise _bad_layout(layout, f"{index_file} names no image manifest for `{tag}`")
    if not (layout / "blobs" / digest.replace(":", "/", 1)).is_file():
        raise _bad_layout(layout, f"{index_file} names {digest}, which is not in blobs/")
    return digest


def _bad_layout(layout: Path, message: str) -> FargoError:
    return FargoError(
        f"the builder wrote no usable image layout at {layout}: {message}",
        hint="this is a builder or fargo bug; the build output above says what was written",
    )
