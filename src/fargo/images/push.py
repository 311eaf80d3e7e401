"""Push an image from an OCI image layout to a registry.

Blobs first, several at once: each is checked (HEAD), else mounted from a repository that
may hold it, else uploaded. Then the manifests, children before the index that names them,
the top one under the tag. A push that finds everything in place sends no blob byte.

The repositories a blob is mounted from are, in order, those the blob-locations record
(`blob_locations.py`) names for it, newest first, then the ones the caller names. Once the
manifest is in, the record learns where each blob now is, and forgets the locations whose
mount the registry refused.
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
from fargo.images.blob_locations import BlobLocations
from fargo.images.errors import RegistryError
from fargo.images.oci import Descriptor, Manifest, OciLayout, child_manifests, referenced_blobs
from fargo.images.progress import BlobOutcome, PushProgress, PushStats, SilentPushProgress
from fargo.images.reference import ImageReference
from fargo.images.registry import RegistryClient, UploadStart
from fargo.images.retry import RetryPolicy
from fargo.images.upload import BlobUpload, UploadCancelled

MIB = 1024 * 1024
# ECR's upload parts must be at least 5 MiB, all but the last.
MIN_CHUNK_SIZE = 5 * MIB
MAX_CHUNK_SIZE = 64 * MIB
# Recorded repositories a blob is mounted from before it is uploaded: a refused mount costs
# a request (and a session cancelled), so a stale record must not cost many.
MAX_RECORDED_SOURCES = 2


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
    blob_locations: BlobLocations | None = None,
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
    `blob_locations`: the record of where blobs were seen, to mount from and to update
    (the CLI and deploy pass the user's; None: no record).
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
            blob_locations=blob_locations,
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
    blob_locations: BlobLocations | None = None,
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
    sources = _Sources(target, mount_from, blob_locations)
    stats = PushStats()
    retries_before = client.retries
    # One token for the whole push: it must already cover every repository mounted from.
    client.auth.want(
        [
            f"repository:{target.repository}:pull,push",
            *(f"repository:{s}:pull" for s in sources.every([b.digest for b in blobs])),
        ]
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
    sources.record_image([blob.digest for blob in blobs])
    return PushResult(target, digest, manifest.media_type, stats)


class _Sources:
    """Where one push mounts each blob from, and what it learns for the record: the refused
    locations at once, the target's blobs once its manifest is in (ECR mounts only blobs a
    manifest of the source refers to)."""

    def __init__(
        self, target: ImageReference, mount_from: Sequence[str], locations: BlobLocations | None
    ) -> None:
        self.target = target
        self.named = [s for s in dict.fromkeys(mount_from) if s != target.repository]
        self.locations = locations

    def recorded(self, digest: str) -> list[str]:
        if self.locations is None:
            return []
        held = self.locations.repositories(self.target.registry, digest)
        return [r for r in held if r != self.target.repository][:MAX_RECORDED_SOURCES]

    def for_blob(self, digest: str) -> list[str]:
        return list(dict.fromkeys([*self.recorded(digest), *self.named]))

    def every(self, digests: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(s for digest in digests for s in self.for_blob(digest)))

    def refused(self, digest: str, source: str) -> None:
        if self.locations is not None:
            self.locations.forget(self.target.registry, source, digest)

    def record_image(self, digests: Sequence[str]) -> None:
        if self.locations is None:
            return
        for digest in digests:
            self.locations.add(self.target.registry, self.target.repository, digest)
        self.locations.save()


class _BlobPush:
    """The blobs of one push, each checked, mounted or uploaded on a pool thread."""

    def __init__(
        self,
        client: RegistryClient,
        *,
        layout: OciLayout,
        repository: str,
        sources: _Sources,
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
        outcome, source = self._place(blob, chunk_size)
        self.stats.finished(outcome, blob.size)
        self.progress.blob_finished(blob, outcome, source)

    def _place(self, blob: Descriptor, chunk_size: int) -> tuple[BlobOutcome, str | None]:
        """How the blob got into the repository, and where it was mounted from."""
        if self.client.blob_exists(self.repository, blob.digest):
            return BlobOutcome.SKIPPED, None
        location: httpx.URL | None = None
        sources = self.sources.for_blob(blob.digest)
        for number, source in enumerate(sources, start=1):
            start = self._mount(blob, source)
            if start is not None and start.mounted:
                return BlobOutcome.MOUNTED, source
            self.stats.mount_refused()
            self.sources.refused(blob.digest, source)
            if start is None:
                continue
            self.stats.session_started()
            # A refused mount opens a session: keep the last one for the upload.
            if number < len(sources) and start.location is not None:
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
        return BlobOutcome.UPLOADED, None

    def _mount(self, blob: Descriptor, source: str) -> UploadStart | None:
        """Ask to mount `blob` from `source`: the registry's answer, or None when it refused
        with an error rather than the upload session the spec asks for (Harbor answers 401
        for a source project that is gone; a registry may deny pull on the source)."""
        try:
            return self.client.start_upload(self.repository, digest=blob.digest, source=source)
        except RegistryError as error:
            if error.status is None or not 400 <= error.status < 500:
                raise
            return None
