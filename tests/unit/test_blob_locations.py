"""The blob-locations record: one file shared by every fargo process of the user."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from fargo.images import blob_locations
from fargo.images.blob_locations import BlobLocations

REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def digest(number: int) -> str:
    return f"sha256:{number:064x}"


def _write_many(path: str, writer: int, count: int) -> None:
    """One process's pushes: each saves its own locations, as a push does at its end."""
    for number in range(count):
        locations = BlobLocations(Path(path))
        locations.add(REGISTRY, f"repo-{writer}", digest(number))
        locations.save()


def test_concurrent_writers_lose_nothing_and_leave_a_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "blob-locations.json"
    writers, count = 6, 25
    context = multiprocessing.get_context("spawn")  # separate processes, as separate pushes
    processes = [
        context.Process(target=_write_many, args=(str(path), writer, count))
        for writer in range(writers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    data = json.loads(path.read_text())  # whole JSON, not a torn write
    assert data["version"] == blob_locations.VERSION
    locations = BlobLocations(path)
    for number in range(count):
        held = locations.repositories(REGISTRY, digest(number))
        assert len(held) == blob_locations.MAX_REPOSITORIES_PER_BLOB  # newest 4 of 6
        assert len(set(held)) == len(held)
    assert not list(tmp_path.glob(".blob-locations.json.*"))  # no temporary file left


def test_newest_first_and_forgotten_locations_go(tmp_path: Path) -> None:
    path = tmp_path / "blob-locations.json"
    first = BlobLocations(path)
    first.add(REGISTRY, "web", digest(1))
    first.save()
    second = BlobLocations(path)
    second.add(REGISTRY, "worker", digest(1))
    second.save()

    assert BlobLocations(path).repositories(REGISTRY, digest(1)) == ["worker", "web"]
    assert BlobLocations(path).repositories("other.example", digest(1)) == []

    third = BlobLocations(path)
    third.forget(REGISTRY, "worker", digest(1))
    third.save()
    assert BlobLocations(path).repositories(REGISTRY, digest(1)) == ["web"]


def test_the_record_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blob_locations, "MAX_BLOBS_PER_REGISTRY", 3)
    monkeypatch.setattr(blob_locations, "MAX_REGISTRIES", 2)
    path = tmp_path / "blob-locations.json"
    for number in range(5):
        locations = BlobLocations(path)
        locations.add(REGISTRY, "web", digest(number))
        locations.save()
    for registry in ("a.example", "b.example"):
        locations = BlobLocations(path)
        locations.add(registry, "web", digest(9))
        locations.save()

    registries = json.loads(path.read_text())["registries"]
    assert set(registries) == {"a.example", "b.example"}  # the least recently used went

    locations = BlobLocations(path)
    for number in range(5):
        locations.add(REGISTRY, "web", digest(number))
    locations.save()
    kept = json.loads(path.read_text())["registries"][REGISTRY]
    assert len(kept) == 3


@pytest.mark.parametrize("content", ["{not json", '{"version": 99, "registries": {}}', "[]"])
def test_a_damaged_or_foreign_file_starts_over(tmp_path: Path, content: str) -> None:
    path = tmp_path / "blob-locations.json"
    path.write_text(content)
    assert BlobLocations(path).repositories(REGISTRY, digest(1)) == []

    locations = BlobLocations(path)
    locations.add(REGISTRY, "web", digest(1))
    locations.save()
    assert BlobLocations(path).repositories(REGISTRY, digest(1)) == ["web"]


def test_a_record_that_cannot_be_written_does_not_fail(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    locations = BlobLocations(blocker / "blob-locations.json")
    locations.add(REGISTRY, "web", digest(1))

    locations.save()  # no error: the cache is best effort

    assert locations.repositories(REGISTRY, digest(1)) == []
