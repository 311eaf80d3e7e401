"""One blob into one repository, through an upload session the registry opened.

A blob that fits in one chunk goes in a single PUT. A larger one goes in PATCHes of
`chunk_size` bytes, each with its Content-Range, then an empty PUT with ?digest= closes
the session. Chunks keep every request small enough to send again cheaply, and they are
what ECR needs: its upload parts are at least 5 MiB, except the last.

A failed request does not start the blob over. The registry is asked how much of the
session it holds (GET on the session: its Range header) and the upload goes on from that
offset; only a session the registry has lost starts afresh. The content is hashed as it
is read, and a blob that does not match its digest is never completed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO

import httpx

from fargo.images.errors import LayoutError, RegistryError
from fargo.images.oci import BlobHasher, Descriptor, corrupt_blob
from fargo.images.progress import PushProgress, PushStats
from fargo.images.registry import RegistryClient
from fargo.images.retry import retryable

_COMPLETED = (200, 201, 204)
_HASH_READ = 1024 * 1024


class UploadCancelled(Exception):  # noqa: N818 - a signal between threads, never shown
    """Another blob of the same push failed; this one stopped between two chunks."""


class BlobUpload:
    def __init__(
        self,
        client: RegistryClient,
        repository: str,
        blob: Descriptor,
        path: Path,
        *,
        layout_root: Path,
        chunk_size: int,
        stats: PushStats,
        progress: PushProgress,
        cancelled: threading.Event,
    ) -> None:
        self.client = client
        self.repository = repository
        self.blob = blob
        self.path = path
        self.layout_root = layout_root
        self.chunk_size = chunk_size
        self.stats = stats
        self.progress = progress
        self.cancelled = cancelled
        self.hasher = BlobHasher(blob.digest)
        self.what = f"upload of blob {blob.digest} to {repository}"

    def run(self, location: httpx.URL) -> None:
        """Upload through the session at `location` until the registry has the blob."""
        offset = 0
        failures = 0
        with self.path.open("rb") as file:
            while True:
                if self.cancelled.is_set():
                    self.client.cancel_upload(location)
                    raise UploadCancelled
                whole = offset == 0 and self.blob.size <= self.chunk_size
                closing = whole or offset == self.blob.size
                chunk = min(self.chunk_size, self.blob.size - offset)
                response: httpx.Response | None = None
                try:
                    if whole:
                        response = self._put_whole(file, location)
                    elif not closing:
                        response = self._patch(file, location, offset, chunk)
                    else:
                        response = self._close(location)
                except httpx.TransportError as error:
                    failure: Exception = error
                else:
                    if response.status_code in _COMPLETED and closing:
                        return
                    if response.status_code == httpx.codes.ACCEPTED and not closing:
                        location = self.client.upload_location(response, self.repository)
                        offset += chunk
                        failures = 0
                        self.stats.sent(chunk, chunk=True)
                        self.progress.blob_progress(self.blob, offset)
                        continue
                    failure = self.client.error(response, self.what)
                    if not _recoverable(response):
                        self.client.cancel_upload(location)
                        raise failure
                failures += 1
                if failures >= self.client.retry.attempts:
                    self.client.cancel_upload(location)
                    raise self._gave_up(failure) from None
                self.client.count_retry()
                self.client.retry.wait(failures, response)
                if closing and self.client.blob_exists(self.repository, self.blob.digest):
                    return  # the closing PUT went through; only its answer was lost
                offset, location = self._resume(file, location, offset, response)

    def _read(self, file: BinaryIO, offset: int, size: int) -> bytes:
        file.seek(offset)
        data = file.read(size)
        if len(data) != size:
            raise LayoutError(
                f"{self.path}: ended at {offset + len(data)} bytes, its descriptor says "
                f"{self.blob.size}",
                hint="the layout changed during the push; rebuild the image",
            )
        return data

    def _verify_whole(self, location: httpx.URL) -> None:
        """At the last byte: a corrupt blob must not be completed under a digest it lacks."""
        actual = self.hasher.result()
        if actual != self.blob.digest:
            self.client.cancel_upload(location)
            raise corrupt_blob(self.layout_root, self.blob, actual)

    def _put_whole(self, file: BinaryIO, location: httpx.URL) -> httpx.Response:
        data = self._read(file, 0, self.blob.size)
        self.hasher.reset()
        self.hasher.update(data)
        self._verify_whole(location)
        response = self.client.send(
            "PUT",
            location.copy_merge_params({"digest": self.blob.digest}),
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if response.status_code in _COMPLETED:
            self.stats.sent(len(data), chunk=False)
            self.progress.blob_progress(self.blob, len(data))
        return response

    def _patch(self, file: BinaryIO, location: httpx.URL, offset: int, size: int) -> httpx.Response:
        data = self._read(file, offset, size)
        self.hasher.checkpoint()
        self.hasher.update(data)
        if offset + size == self.blob.size:
            self._verify_whole(location)
        return self.client.send(
            "PATCH",
            location,
            content=data,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + size - 1}",
            },
        )

    def _close(self, location: httpx.URL) -> httpx.Response:
        return self.client.send(
            "PUT", location.copy_merge_params({"digest": self.blob.digest}), content=b""
        )

    def _resume(
        self,
        file: BinaryIO,
        location: httpx.URL,
        tried: int,
        response: httpx.Response | None,
    ) -> tuple[int, httpx.URL]:
        """Where the session stands after a failure: the registry's offset, or a new
        session when it lost this one (404) or its offset cannot be believed (a 416 for
        the very offset it reports)."""
        status = self.client.upload_status(location, self.repository)
        out_of_range = response is not None and response.status_code == 416
        if status is None or (out_of_range and status[0] == tried):
            self.client.cancel_upload(location)
            start = self.client.start_upload(self.repository)
            self.stats.session_started()
            if start.location is None:
                raise RegistryError(f"{self.what}: the registry mounted a blob it was not asked to")
            offset, location = 0, start.location
        else:
            offset, location = status
            if offset > self.blob.size:
                raise RegistryError(
                    f"{self.what}: the registry holds {offset} bytes of a {self.blob.size}-byte "
                    "blob",
                    hint="the upload session is corrupt; push again",
                )
        self.stats.resumed()
        self._hash_to(file, offset)
        self.progress.blob_progress(self.blob, offset)
        return offset, location

    def _hash_to(self, file: BinaryIO, offset: int) -> None:
        """Put the hash state at `offset`: back to the last chunk's start when that is
        behind it, from scratch otherwise, then hash forward over what the registry holds."""
        if self.hasher.checkpoint_offset <= offset:
            self.hasher.rewind()
        else:
            self.hasher.reset()
        while self.hasher.offset < offset:
            size = min(_HASH_READ, offset - self.hasher.offset)
            self.hasher.update(self._read(file, self.hasher.offset, size))

    def _gave_up(self, failure: Exception) -> RegistryError:
        if isinstance(failure, RegistryError):
            return failure
        return self.client.unreachable(self.what, failure)


def _recoverable(response: httpx.Response) -> bool:
    """Worth asking the session's status and going on: a throttle or server failure, a
    Content-Range the registry disagrees with (416), a session it lost (404)."""
    return retryable(response) or response.status_code in (404, 416)
