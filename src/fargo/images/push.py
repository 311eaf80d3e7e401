"""Push an image from an OCI image layout to a registry.

Blobs first, several at once: each is checked (HEAD), else mounted from a repository that
may hold it, else uploaded. Then the manifests, children before the index that names them,
the top one under the tag. A push that finds everything in place sends no blob byte.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fargo.errors import InputError
from fargo.images.auth import Credentials
from fargo.images.errors import RegistryError
from fargo.images.oci import Descriptor, Manifest, OciLayout, child_manifests, referenced_blobs
from fargo.images.progress import BlobOutcome, PushProgress, PushStats, SilentPushProgress
from fargo.images.reference import ImageReference
from fargo.images.registry import RegistryClient
from fargo.images.retry import RetryPolicy
from fargo.images.upload import BlobUpload, UploadCancelled

MIB = 1024 * 1024
# ECR's upload parts must be at least 5 MiB, all but the last.
MIN_CHUNK_SIZE = 5 * MIB
MAX_CHUNK_SIZE = 64 * MIB


@dataclass(frozen=True)
class PushOptions:
    chunk_size: int = 8 * MIB
    parallel: int = 4  # blobs uploaded at once
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 60.0  # seconds, per request phase (connect, each read and write)

    def __post_init__(self) -> None:
        if not MIN_CHUNK_SIZE <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise InputError(
                f"chunk size {self.chunk_size} is outside {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE}",
                hint="ECR refuses upload parts under 5 MiB",
            )
        if self.parallel < 1:
            raise InputError(f"parallel uploads must be at least 1, not {self.parallel}")


@dataclass(frozen=True)
class PushResult:
    reference: ImageReference
    digest: str  # of the top-level manifest or index: what ECS can pin with image@digest
    media_type: str
    stats: PushStats


def push(
    layout_dir: Path,
    reference: str | ImageReference,
    *,
    credentials: Credentials | None = None,
    mount_from: Sequence[str] = (),
    image: str | None = None,
    progress: PushProgress | None = None,
    options: PushOptions | None = None,
    insecure: bool | None = None,
    transport: httpx.BaseTransport | None = None,
) -> PushResult:
    """Push the image in the OCI layout at `layout_dir` to `reference`
    (REGISTRY/REPOSITORY:TAG) and return its digest and what the push did.

    `mount_from`: repositories of the same registry that may hold some of the blobs (an
    earlier image of the app); the registry links them instead of receiving them again.
    `image`: which image of the layout, by its ref.name, when index.json lists several.
    `insecure`: plain HTTP (True) or HTTPS (False); by default plain only on loopback.
    """
    target = reference if isinstance(reference, ImageReference) else ImageReference.parse(reference)
    options = options or PushOptions()
    layout = OciLayout.open(layout_dir)
    manifest = layout.image(image)
    with RegistryClient(
        target.registry,
        credentials=credentials,
        insecure=insecure,
        retry=options.retry,
        timeout=options.timeout,
        connections=options.parallel + 1,
        transport=transport,
    ) as client:
        return push_image(
            client,
            layout,
            manifest,
            target,
            mount_from=mount_from,
            progress=progress,
            options=options,
        )


def push_image(
    client: RegistryClient,
    layout: OciLayout,
    manifest: Manifest,
    target: ImageReference,
    *,
    mount_from: Sequence[str] = (),
    progress: PushProgress | None = None,
    options: PushOptions | None = None,
) -> PushResult:
    """`push` on an open client (several images to one registry share its connections)."""
    options = options or PushOptions()
    progress = progress or SilentPushProgress()
    blobs = [blob for blob in referenced_blobs(manifest) if not blob.foreign]
    # Every blob is on disk at its size before the first request: no half-pushed image
    # for a layout that could never have been pushed whole.
    paths = {blob.digest: layout.check_blob(blob) for blob in blobs}
    sources = [s for s in dict.fromkeys(mount_from) if s != target.repository]
    stats = PushStats()
    retries_before = client.retries
    client.auth.want(
        [f"repository:{target.repository}:pull,push", *(f"repository:{s}:pull" for s in sources)]
    )
    client.ping()  # settles auth once, before the threads would all meet the same 401

    blob_push = _BlobPush(
        client,
        layout=layout,
        repository=target.repository,
        sources=sources,
        paths=paths,
        stats=stats,
        progress=progress,
    )
    # Largest first: the big layers bound the push's time, small ones fill in around them.
    blob_push.run_all(sorted(blobs, key=lambda blob: blob.size, reverse=True), options)

    for child in child_manifests(manifest):
        client.put_manifest(target.repository, child.digest, child.media_type, child.content)
        stats.manifest_pushed()
    digest = client.put_manifest(
        target.repository, target.tag, manifest.media_type, manifest.content
    )
    stats.manifest_pushed()
    stats.retries = client.retries - retries_before
    return PushResult(target, digest, manifest.media_type, stats)


class _BlobPush:
    """The blobs of one push, each checked, mounted or uploaded on a pool thread."""

    def __init__(
        self,
        client: RegistryClient,
        *,
        layout: OciLayout,
        repository: str,
        sources: list[str],
        paths: dict[str, Path],
        stats: PushStats,
        progress: PushProgress,
    ) -> None:
        self.client = client
        self.layout = layout
        self.repository = repository
        self.sources = sources
        self.paths = paths
        self.stats = stats
        self.progress = progress
        self.cancelled = threading.Event()

    def run_all(self, blobs: list[Descriptor], options: PushOptions) -> None:
        """Push every blob; on the first failure, stop the others and raise it."""
        failure: Exception | None = None
        with ThreadPoolExecutor(options.parallel, thread_name_prefix="fargo-push") as pool:
            futures: list[Future[None]] = [
                pool.submit(self.push_one, blob, options.chunk_size) for blob in blobs
            ]
            try:
                for future in as_completed(futures):
                    try:
                        future.result()
                    except UploadCancelled:
                        pass
                    except Exception as error:  # noqa: BLE001 - re-raised below, after the pool stops
                        failure = error
                        self.cancelled.set()
                        pool.shutdown(wait=False, cancel_futures=True)
                        # Futures cancelled by shutdown() never reach as_completed's waiter,
                        # so waiting for them would hang; leaving the `with` waits for the
                        # uploads already running, which stop at `cancelled`.
                        break
            except BaseException:
                # Ctrl-C: without this the pool would finish every upload before exiting.
                self.cancelled.set()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        if failure is not None:
            raise failure

    def push_one(self, blob: Descriptor, chunk_size: int) -> None:
        if self.cancelled.is_set():
            raise UploadCancelled
        self.progress.blob_started(blob)
        outcome = self._place(blob, chunk_size)
        self.stats.finished(outcome)
        self.progress.blob_finished(blob, outcome)

    def _place(self, blob: Descriptor, chunk_size: int) -> BlobOutcome:
        if self.client.blob_exists(self.repository, blob.digest):
            return BlobOutcome.SKIPPED
        location: httpx.URL | None = None
        for number, source in enumerate(self.sources, start=1):
            start = self.client.start_upload(self.repository, digest=blob.digest, source=source)
            if start.mounted:
                return BlobOutcome.MOUNTED
            self.stats.session_started()
            # A refused mount opens a session: keep the last one for the upload.
            if number < len(self.sources) and start.location is not None:
                self.client.cancel_upload(start.location)
            else:
                location = start.location
        if location is None:
            location = self.client.start_upload(self.repository).location
            self.stats.session_started()
        if location is None:
            raise RegistryError(
                f"{self.client.registry} answered a plain upload start with a mounted blob",
                hint="the registry does not follow the OCI distribution spec",
            )
        BlobUpload(
            self.client,
            self.repository,
            blob,
            self.paths[blob.digest],
            layout_root=self.layout.root,
            chunk_size=chunk_size,
            stats=self.stats,
            progress=self.progress,
            cancelled=self.cancelled,
        ).run(location)
        return BlobOutcome.UPLOADED
