"""Which repositories of a registry hold which blobs, as this machine last saw them.

A push to a repository that lacks a blob asks the registry to mount it from a repository
named here (POST .../blobs/uploads/?mount=&from=) instead of sending its bytes again, the
way skopeo and docker use their blob-info caches. A location is recorded when a blob was
uploaded or mounted into a repository, or a HEAD found it there, and only once the push's
manifest is in (ECR mounts only blobs a manifest of the source repository refers to). A
mount the registry refuses forgets that location.

The record is a cache: a location may be stale (a repository deleted, an image expired),
which costs one refused mount, and losing the file costs only mounts. It lives in one small
JSON file under the user cache dir, shared by every fargo process of the user: writers
merge their changes into what is on disk under an exclusive lock (`fcntl.flock` on a
sidecar file) and replace the file atomically, so readers never see half a file and
concurrent pushes lose nothing. Bounded: the newest repositories per blob, the newest blobs
per registry, the newest registries.

A registry is its host[:port], as in an image reference: an ECR registry's host names its
account and region, the scope of ECR's blob mounting.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

FILE_NAME = "blob-locations.json"
VERSION = 1
MAX_REPOSITORIES_PER_BLOB = 4
MAX_BLOBS_PER_REGISTRY = 4000
MAX_REGISTRIES = 32

# registry -> blob digest -> repository -> when it was last seen there (Unix seconds)
_Locations = dict[str, dict[str, dict[str, float]]]


def default_path() -> Path:
    return Path(platformdirs.user_cache_dir("fargo")) / FILE_NAME


@dataclass(frozen=True)
class _Change:
    registry: str
    digest: str
    repository: str
    seen: float | None  # None: forget the location


class BlobLocations:
    """The record at `path`. `repositories` reads the file as it was when first asked;
    `add` and `forget` are kept in memory (thread-safe) until `save` merges them in."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._loaded: _Locations | None = None
        self._changes: list[_Change] = []
        self._lock = threading.Lock()

    def repositories(self, registry: str, digest: str) -> list[str]:
        """The repositories of `registry` recorded as holding `digest`, newest first."""
        with self._lock:
            if self._loaded is None:
                self._loaded = _read(self.path)
            held = self._loaded.get(registry, {}).get(digest, {})
        return sorted(held, key=lambda repository: held[repository], reverse=True)

    def add(self, registry: str, repository: str, digest: str) -> None:
        with self._lock:
            self._changes.append(_Change(registry, digest, repository, time.time()))

    def forget(self, registry: str, repository: str, digest: str) -> None:
        with self._lock:
            self._changes.append(_Change(registry, digest, repository, None))

    def save(self) -> None:
        """Merge the changes into the file. Best effort: a cache that cannot be written
        (a read-only home, a full disk) must not fail the push that filled it."""
        with self._lock:
            changes, self._changes = self._changes, []
        if not changes:
            return
        with contextlib.suppress(OSError), self._exclusive():
            locations = _read(self.path)
            _apply(locations, changes)
            _prune(locations)
            _write(self.path, locations)
            with self._lock:
                self._loaded = locations

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_name(self.path.name + ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield  # the lock goes with the file's close


def _read(path: Path) -> _Locations:
    """The file's locations; none when it is missing, unreadable or not ours (a cache
    starts over rather than fail a push)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    registries = data.get("registries")
    if not isinstance(registries, dict):
        return {}
    locations: _Locations = {}
    for registry, blobs in registries.items():
        if not isinstance(blobs, dict):
            continue
        kept = {
            digest: {
                repo: float(seen)
                for repo, seen in held.items()
                if isinstance(seen, int | float) and not isinstance(seen, bool)
            }
            for digest, held in blobs.items()
            if isinstance(held, dict)
        }
        locations[str(registry)] = {digest: held for digest, held in kept.items() if held}
    return locations


def _apply(locations: _Locations, changes: Iterable[_Change]) -> None:
    for change in changes:
        held = locations.setdefault(change.registry, {}).setdefault(change.digest, {})
        if change.seen is None:
            held.pop(change.repository, None)
        else:
            held[change.repository] = max(change.seen, held.get(change.repository, 0.0))
        if not held:
            del locations[change.registry][change.digest]


def _prune(locations: _Locations) -> None:
    """Keep the newest entries at each level, so the file stays small (about 100 bytes a
    location) and quick to read on every push."""
    for registry, blobs in list(locations.items()):
        for digest, held in blobs.items():
            blobs[digest] = dict(_newest(held.items(), MAX_REPOSITORIES_PER_BLOB))
        newest = _newest(
            ((digest, max(held.values())) for digest, held in blobs.items() if held),
            MAX_BLOBS_PER_REGISTRY,
        )
        locations[registry] = {digest: blobs[digest] for digest, _ in newest}
        if not locations[registry]:
            del locations[registry]
    last_used = _newest(((r, _latest(blobs)) for r, blobs in locations.items()), MAX_REGISTRIES)
    for registry in set(locations) - {registry for registry, _ in last_used}:
        del locations[registry]


def _latest(blobs: dict[str, dict[str, float]]) -> float:
    return max(max(held.values()) for held in blobs.values())


def _newest(items: Iterable[tuple[str, float]], limit: int) -> list[tuple[str, float]]:
    return sorted(items, key=lambda item: item[1], reverse=True)[:limit]


def _write(path: Path, locations: _Locations) -> None:
    """Write beside the file and rename over it: a reader sees the old file or the new."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w") as file:
            json.dump({"version": VERSION, "registries": locations}, file, separators=(",", ":"))
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
