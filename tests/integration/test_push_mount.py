"""Pushes send only what the registry lacks: the blob-locations record names the
repositories of the registry that hold each blob, and a push to another repository mounts
from them. A stale or refused location costs an upload, never the push."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from fargo.images import BlobLocations, BlobOutcome, PushOptions, push
from fargo.images.local_registry import LocalRegistry
from fargo.images.push import MIB
from fargo.images.retry import RetryPolicy
from tests.integration.conftest import Skopeo
from tests.integration.faulty_proxy import Fault, FaultyProxy
from tests.integration.layouts import Image, random_layer, single_image_layout
from tests.integration.test_push import RecordingProgress

pytestmark = pytest.mark.integration

FAST = PushOptions(retry=RetryPolicy(sleep=lambda _: None))


def _blobs(image: Image) -> list[dict[str, object]]:
    return [image.config, *image.layers]


def _size(image: Image) -> int:
    return sum(int(str(blob["size"])) for blob in _blobs(image))


def assert_holds(registry: LocalRegistry, repository: str, tag: str, image: Image) -> None:
    """The registry serves the image from `repository`: its manifest under the tag, byte
    for byte, and every blob it names, each matching its digest. Plain HTTP, as any puller."""
    with httpx.Client(base_url=registry.url) as http:
        manifest = http.get(
            f"/v2/{repository}/manifests/{tag}",
            headers={"Accept": str(image.descriptor["mediaType"])},
        )
        assert manifest.status_code == 200
        assert "sha256:" + hashlib.sha256(manifest.content).hexdigest() == image.digest
        named = json.loads(manifest.content)
        assert [named["config"], *named["layers"]] == _blobs(image)
        for blob in _blobs(image):
            got = http.get(f"/v2/{repository}/blobs/{blob['digest']}", follow_redirects=True)
            assert got.status_code == 200
            assert "sha256:" + hashlib.sha256(got.content).hexdigest() == blob["digest"]


def test_a_push_to_a_fresh_repository_mounts_every_blob(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    image = single_image_layout(
        layout_dir("app"), [random_layer(3 * MIB, seed=s) for s in (40, 41)]
    )
    record = tmp_path / "blob-locations.json"
    first = push(
        layout_dir("app"), f"{registry.address}/{repo}-a:v1", blob_locations=BlobLocations(record)
    )
    assert first.stats.blobs_uploaded == 3
    progress = RecordingProgress()

    second = push(
        layout_dir("app"),
        f"{registry.address}/{repo}-b:v1",
        blob_locations=BlobLocations(record),  # a new process would read the file, as here
        progress=progress,
    )

    stats = second.stats
    assert (stats.blobs_mounted, stats.blobs_uploaded, stats.blobs_skipped) == (3, 0, 0)
    assert (stats.bytes_uploaded, stats.upload_sessions, stats.mounts_refused) == (0, 0, 0)
    assert stats.bytes_mounted == _size(image)
    assert progress.sources == {str(b["digest"]): f"{repo}-a" for b in _blobs(image)}
    assert second.digest == image.digest
    assert_holds(registry, f"{repo}-b", "v1", image)
    # Both repositories are recorded now, the newest first.
    recorded = BlobLocations(record)
    for blob in _blobs(image):
        assert recorded.repositories(registry.address, str(blob["digest"])) == [
            f"{repo}-b",
            f"{repo}-a",
        ]


def test_a_location_that_lost_the_blob_costs_an_upload_not_the_push(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(2 * MIB, seed=42)])
    locations = BlobLocations(tmp_path / "blob-locations.json")
    push(layout_dir("app"), f"{registry.address}/{repo}-a:v1", blob_locations=locations)
    # The source repository loses its blobs (an image expired, a repository emptied).
    with httpx.Client(base_url=registry.url) as http:
        for blob in _blobs(image):
            deleted = http.delete(f"/v2/{repo}-a/blobs/{blob['digest']}")
            assert deleted.status_code == 202, deleted.text

    result = push(
        layout_dir("app"),
        f"{registry.address}/{repo}-b:v1",
        blob_locations=BlobLocations(locations.path),
    )

    stats = result.stats
    assert (stats.blobs_uploaded, stats.blobs_mounted, stats.mounts_refused) == (2, 0, 2)
    # The registry answered each mount with an upload session (202), and the push used it.
    assert stats.upload_sessions == 2
    assert stats.bytes_uploaded == _size(image)
    assert_holds(registry, f"{repo}-b", "v1", image)
    recorded = BlobLocations(locations.path)
    for blob in _blobs(image):
        assert recorded.repositories(registry.address, str(blob["digest"])) == [f"{repo}-b"]


def test_a_mount_refused_with_an_error_falls_back_to_an_upload(
    registry: LocalRegistry,
    skopeo: Skopeo,
    repo: str,
    layout_dir: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    """Harbor answers 401 to a mount from a project that is gone, where the spec asks for
    a 202; the push starts a plain upload instead of failing."""
    image = single_image_layout(layout_dir("app"), [random_layer(MIB, seed=43)])
    locations = BlobLocations(tmp_path / "blob-locations.json")
    refuse = Fault("POST", "mount=", status=401, times=10)

    with FaultyProxy(registry.address, [refuse]) as proxy:
        push(layout_dir("app"), f"{proxy.address}/{repo}-a:v1", blob_locations=locations)
        result = push(
            layout_dir("app"),
            f"{proxy.address}/{repo}-b:v1",
            blob_locations=BlobLocations(locations.path),
            options=FAST,
        )

    assert refuse.hits == 2
    stats = result.stats
    assert (stats.blobs_uploaded, stats.mounts_refused, stats.upload_sessions) == (2, 2, 2)
    assert skopeo.raw_digest(f"{registry.address}/{repo}-b:v1") == image.digest


def test_without_a_record_nothing_is_mounted_or_written(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path]
) -> None:
    single_image_layout(layout_dir("app"), [random_layer(MIB, seed=44)])
    push(layout_dir("app"), f"{registry.address}/{repo}-a:v1")

    result = push(layout_dir("app"), f"{registry.address}/{repo}-b:v1")

    assert (result.stats.blobs_uploaded, result.stats.mounts_refused) == (2, 0)


def test_a_blob_found_in_place_is_recorded_too(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(MIB, seed=45)])
    push(layout_dir("app"), f"{registry.address}/{repo}-a:v1")  # unrecorded
    locations = BlobLocations(tmp_path / "blob-locations.json")

    again = push(layout_dir("app"), f"{registry.address}/{repo}-a:v1", blob_locations=locations)
    mounted = push(layout_dir("app"), f"{registry.address}/{repo}-b:v1", blob_locations=locations)

    assert again.stats.blobs_skipped == 2
    assert mounted.stats.blobs_mounted == 2
    assert_holds(registry, f"{repo}-b", "v1", image)


def test_progress_names_the_repository_a_blob_was_mounted_from(
    registry: LocalRegistry, repo: str, layout_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    image = single_image_layout(layout_dir("app"), [random_layer(MIB, seed=46)])
    locations = BlobLocations(tmp_path / "blob-locations.json")
    push(layout_dir("app"), f"{registry.address}/{repo}-a:v1", blob_locations=locations)
    progress = RecordingProgress()

    push(
        layout_dir("app"),
        f"{registry.address}/{repo}-b:v1",
        blob_locations=locations,
        progress=progress,
    )

    finished = [value for kind, _, value in progress.events if kind == "finished"]
    assert finished == [BlobOutcome.MOUNTED, BlobOutcome.MOUNTED]
    assert set(progress.sources.values()) == {f"{repo}-a"}
    assert set(progress.sources) == {str(b["digest"]) for b in _blobs(image)}
