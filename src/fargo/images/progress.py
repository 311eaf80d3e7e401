"""What a push reports while it runs (per blob) and what it did (counts).

The library prints nothing: the CLI passes a `PushProgress` that draws per-layer bars, and
tests and bench/ read `PushStats`.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import Protocol

from fargo.images.oci import Descriptor


class BlobOutcome(enum.Enum):
    SKIPPED = "exists"  # the repository already had it
    MOUNTED = "mounted"  # linked from another repository of the registry, no bytes sent
    UPLOADED = "uploaded"


class PushProgress(Protocol):
    """Per-blob progress. Called from the upload threads, so implementations must be
    thread-safe (calls for one blob come from one thread, in order)."""

    def blob_started(self, blob: Descriptor) -> None:
        """Work on `blob` began (a check, a mount or an upload follows)."""

    def blob_progress(self, blob: Descriptor, offset: int) -> None:
        """The registry holds `offset` of `blob.size` bytes. It can go back after a resume."""

    def blob_finished(
        self, blob: Descriptor, outcome: BlobOutcome, source: str | None = None
    ) -> None:
        """`blob` is in the repository; `source` is the repository it was mounted from."""


class SilentPushProgress:
    def blob_started(self, blob: Descriptor) -> None:
        del blob

    def blob_progress(self, blob: Descriptor, offset: int) -> None:
        del blob, offset

    def blob_finished(
        self, blob: Descriptor, outcome: BlobOutcome, source: str | None = None
    ) -> None:
        del blob, outcome, source


@dataclass
class PushStats:
    """What one push did. Updated by the upload threads through the methods below."""

    blobs_skipped: int = 0
    blobs_mounted: int = 0
    blobs_uploaded: int = 0
    bytes_uploaded: int = 0  # body bytes of the requests the registry accepted
    bytes_mounted: int = 0  # size of the blobs mounted: what the push did not have to send
    mounts_refused: int = 0  # mount requests the registry answered with an upload or an error
    upload_sessions: int = 0  # POSTs that opened an upload (a failed mount opens one too)
    chunks: int = 0  # PATCH requests the registry accepted
    resumes: int = 0  # uploads continued from the registry's offset after a failure
    retries: int = 0  # requests sent again after a connection error, 5xx or 429
    manifests_pushed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def finished(self, outcome: BlobOutcome, size: int) -> None:
        with self._lock:
            if outcome is BlobOutcome.SKIPPED:
                self.blobs_skipped += 1
            elif outcome is BlobOutcome.MOUNTED:
                self.blobs_mounted += 1
                self.bytes_mounted += size
            else:
                self.blobs_uploaded += 1

    def mount_refused(self) -> None:
        with self._lock:
            self.mounts_refused += 1

    def session_started(self) -> None:
        with self._lock:
            self.upload_sessions += 1

    def sent(self, size: int, *, chunk: bool) -> None:
        with self._lock:
            self.bytes_uploaded += size
            self.chunks += int(chunk)

    def resumed(self) -> None:
        with self._lock:
            self.resumes += 1

    def retried(self) -> None:
        with self._lock:
            self.retries += 1

    def manifest_pushed(self) -> None:
        with self._lock:
            self.manifests_pushed += 1
