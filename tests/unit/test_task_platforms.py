"""Which image a task runs when this machine's CPU is not the one its task definition asks
for: the decision the emulator makes (patches/task_platforms.py) and `--local` reports.

The images are shaped as registries serve them: an OCI image index whose entries carry
`platform` (image-spec "Image Index"), or a single image manifest, which names none.
"""

from __future__ import annotations

import pytest

from fargo.local.patches.task_platforms import (
    CannotRun,
    HostVariant,
    can_emulate,
    choose,
    machine_architecture,
)

AMD64 = "sha256:" + "a" * 64
ARM64 = "sha256:" + "b" * 64
INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": ARM64,
            "size": 405,
            "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": AMD64,
            "size": 405,
            "platform": {"architecture": "amd64", "os": "linux"},
        },
    ],
}
ARM64_ONLY = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": ARM64, "size": 9},
    "layers": [],
}
REFUSAL = "the image has no linux/amd64 variant and this machine cannot run linux/arm64 images"


def test_an_index_with_the_machines_variant_runs_that_variant() -> None:
    assert choose("arm64", "amd64", INDEX) == HostVariant(AMD64, "linux/amd64")


def test_an_index_without_it_is_refused() -> None:
    arm_only = {**INDEX, "manifests": INDEX["manifests"][:1]}
    assert choose("arm64", "amd64", arm_only) == CannotRun(REFUSAL)


def test_an_index_without_a_media_type_is_still_an_index() -> None:
    # OCI makes mediaType optional; a Docker manifest list names its own type.
    bare = {key: value for key, value in INDEX.items() if key != "mediaType"}
    assert choose("arm64", "amd64", bare) == HostVariant(AMD64, "linux/amd64")
    docker = {**INDEX, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json"}
    assert choose("arm64", "amd64", docker) == HostVariant(AMD64, "linux/amd64")


def test_a_single_arm64_manifest_is_refused() -> None:
    assert choose("arm64", "amd64", ARM64_ONLY) == CannotRun(REFUSAL)


def test_an_arm64_machine_runs_the_image_as_the_task_says() -> None:
    assert choose("arm64", "arm64", ARM64_ONLY) is None
    assert choose("arm64", "arm64", INDEX) is None


def test_an_image_the_registry_does_not_hold_is_left_to_its_pull() -> None:
    assert choose("arm64", "amd64", None) is None


@pytest.mark.parametrize(
    ("machine", "architecture"),
    [("x86_64", "amd64"), ("AMD64", "amd64"), ("aarch64", "arm64"), ("arm64", "arm64")],
)
def test_the_machine_names_its_cpu(machine: str, architecture: str) -> None:
    # platform.machine(): x86_64/aarch64 on Linux, arm64 on macOS, AMD64 on Windows.
    assert machine_architecture(machine) == architecture


def test_a_binfmt_handler_emulates_its_architecture() -> None:
    # The names qemu-user-static and tonistiigi/binfmt register under /proc/sys/fs/binfmt_misc.
    assert can_emulate("arm64", ["register", "status", "qemu-aarch64"])
    assert not can_emulate("arm64", ["register", "status"])
    assert not can_emulate("arm64", ["register", "status", "qemu-x86_64"])
