"""fargo pushes OCI layouts to a real registry; skopeo reads them back."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from fargo.images import BlobOutcome, PushOptions, push
from fargo.images.local_registry import LocalRegistry
from fargo.images.oci import Descriptor
from fargo.images.push import MIB
from tests.integration.conftest import Skopeo
from tests.integration.layouts import LayoutWriter, random_layer, single_image_layout

pytestmark = pytest.mark.integration


def test_pushed_image_reads_back_with_the_same_digest(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    layers = [random_layer(3 * MIB, seed=1), random_layer(2 * MIB, seed=2)]
    image = single_image_layout(layout_dir("app"), layers)
    reference = f"{registry.address}/{repo}:v1"

    result = push(layout_dir("app"), reference)

    assert result.digest == image.digest
    assert skopeo.raw_digest(reference) == image.digest
    assert skopeo.digest(reference) == image.digest
    assert (
        skopeo.raw(reference)
        == (layout_dir("app") / "blobs/sha256" / image.digest[7:]).read_bytes()
    )
    stats = result.stats
    assert (stats.blobs_uploaded, stats.blobs_skipped, stats.blobs_mounted) == (3, 0, 0)
    assert stats.upload_sessions == 3
    assert stats.bytes_uploaded == sum(int(b["size"]) for b in [image.config, *image.layers])


def test_docker_schema2_manifest_keeps_its_media_type(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(MIB, seed=3)], docker=True)
    reference = f"{registry.address}/{repo}:v1"

    result = push(layout_dir("app"), reference)

    assert result.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert skopeo.raw_digest(reference) == image.digest == result.digest


def test_pushing_again_unchanged_uploads_nothing(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(2 * MIB, seed=s) for s in (4, 5)])
    reference = f"{registry.address}/{repo}:v1"
    first = push(layout_dir("app"), reference)

    again = push(layout_dir("app"), reference)

    assert again.digest == first.digest
    assert again.stats.blobs_skipped == 3
    assert again.stats.blobs_uploaded == again.stats.upload_sessions == 0
    assert again.stats.bytes_uploaded == 0


def test_one_changed_layer_uploads_that_layer_and_the_config(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    base = [random_layer(2 * MIB, seed=s) for s in (6, 7, 8)]
    single_image_layout(layout_dir("v1"), base)
    push(layout_dir("v1"), f"{registry.address}/{repo}:v1")
    changed = [base[0], random_layer(2 * MIB, seed=9), base[2]]
    image = single_image_layout(layout_dir("v2"), changed)

    result = push(layout_dir("v2"), f"{registry.address}/{repo}:v2")

    stats = result.stats
    assert stats.blobs_uploaded <= 2
    assert stats.upload_sessions <= 2
    assert stats.blobs_skipped == 2
    assert stats.bytes_uploaded == int(image.layers[1]["size"]) + int(image.config["size"])
    assert skopeo.raw_digest(f"{registry.address}/{repo}:v2") == image.digest


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-manifest-list"])
def test_multi_arch_index_pushes_children_then_the_index(
    registry: LocalRegistry,
    skopeo: Skopeo,
    repo: str,
    layout_dir: Callable[[str], Path],
    docker: bool,
) -> None:
    shared = random_layer(MIB, seed=10)
    writer = LayoutWriter(layout_dir("multi"))
    amd64 = writer.image([shared, random_layer(MIB, seed=11)], architecture="amd64", docker=docker)
    arm64 = writer.image([shared, random_layer(MIB, seed=12)], architecture="arm64", docker=docker)
    index = writer.index([amd64, arm64], docker=docker)
    writer.finish(index)
    reference = f"{registry.address}/{repo}:multi"

    result = push(layout_dir("multi"), reference)

    assert result.digest == index["digest"] == skopeo.raw_digest(reference)
    for child in (amd64, arm64):
        assert skopeo.raw_digest(f"{registry.address}/{repo}@{child.digest}") == child.digest
    arm = skopeo.run(
        "inspect", "--tls-verify=false", "--override-arch", "arm64", "--format",
        "{{.Architecture}} {{.Digest}}", f"docker://{reference}",
    )  # fmt: skip
    assert arm.returncode == 0, arm.stderr.decode()
    assert arm.stdout.decode().split()[0] == "arm64"
    # the shared layer once, two own layers, two configs; two manifests and the index
    assert result.stats.blobs_uploaded == 5
    assert result.stats.manifests_pushed == 3


def test_a_large_layer_goes_in_chunks(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("big"), [random_layer(21 * MIB, seed=13)])
    layer_size = int(image.layers[0]["size"])
    reference = f"{registry.address}/{repo}:big"

    result = push(layout_dir("big"), reference, options=PushOptions(chunk_size=5 * MIB))

    # the config fits one chunk and goes in a single PUT; the layer in PATCHes
    assert result.stats.chunks == math.ceil(layer_size / (5 * MIB)) == 5
    assert skopeo.raw_digest(reference) == image.digest


def test_blobs_mount_from_another_repository(
    registry: LocalRegistry, skopeo: Skopeo, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(
        layout_dir("app"), [random_layer(2 * MIB, seed=s) for s in (14, 15)]
    )
    push(layout_dir("app"), f"{registry.address}/{repo}-base:v1")
    reference = f"{registry.address}/{repo}-copy:v1"

    result = push(layout_dir("app"), reference, mount_from=[f"{repo}-nothing-here", f"{repo}-base"])

    assert result.stats.blobs_mounted == 3
    assert result.stats.blobs_uploaded == result.stats.bytes_uploaded == 0
    assert skopeo.raw_digest(reference) == image.digest


def test_a_refused_mount_uploads_through_the_session_it_opened(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(MIB, seed=16)])

    result = push(layout_dir("app"), f"{registry.address}/{repo}:v1", mount_from=[f"{repo}-none"])

    assert result.stats.blobs_uploaded == 2
    assert result.stats.upload_sessions == 2  # one per blob: the refused mount's session


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []
        self.sources: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def blob_started(self, blob: Descriptor) -> None:
        with self._lock:
            self.events.append(("started", blob.digest, None))

    def blob_progress(self, blob: Descriptor, offset: int) -> None:
        with self._lock:
            self.events.append(("progress", blob.digest, offset))

    def blob_finished(
        self, blob: Descriptor, outcome: BlobOutcome, source: str | None = None
    ) -> None:
        with self._lock:
            self.events.append(("finished", blob.digest, outcome))
            self.sources[blob.digest] = source


def test_progress_is_reported_per_layer(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(12 * MIB, seed=17)])
    layer = str(image.layers[0]["digest"])
    size = int(image.layers[0]["size"])
    progress = RecordingProgress()

    push(layout_dir("app"), f"{registry.address}/{repo}:v1", progress=progress)
    push(layout_dir("app"), f"{registry.address}/{repo}:v1", progress=progress)

    mine = [(kind, value) for kind, digest, value in progress.events if digest == layer]
    offsets = [value for kind, value in mine if kind == "progress"]
    assert mine[0] == ("started", None)
    assert offsets == sorted(offsets)
    assert offsets[-1] == size
    assert len(offsets) == math.ceil(size / (8 * MIB))
    finished = [value for kind, value in mine if kind == "finished"]
    assert finished == [BlobOutcome.UPLOADED, BlobOutcome.SKIPPED]
