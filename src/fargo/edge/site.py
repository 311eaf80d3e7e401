"""Publish a static site to its bucket and refresh CloudFront, changing only what changed.

The bucket holds a manifest (`.fargo/site.json`, never served: the bucket policy denies
CloudFront that prefix) with each published key's sha256, Content-Type and Cache-Control.
A publish compares the directory with it and then, in this order:

1. uploads the changed files, several at a time: everything but HTML first, then the
   HTML, so no page is served before the assets it names;
2. deletes what left the directory, except content-hashed assets: a page a browser
   loaded before the publish may still fetch them. They stay in the manifest as retired
   and are deleted by the first publish `RETIRED_DAYS` after they left;
3. invalidates in CloudFront the paths whose cached copy went stale (one request);
4. writes the new manifest, last, so a publish that fails halfway is redone in full by
   the next one.

An unchanged site makes no write call at all.

What is invalidated: every uploaded or deleted key, except a content-hashed file that is
new to the bucket (nothing can have cached it), plus `/` for `index.html` and `dir/` for
`dir/index.html`. Over `MAX_PATHS` paths, one `/*` (CloudFront bills per path beyond the
first 1000 a month, a wildcard counts as one). The CallerReference is derived from the new
manifest, which carries a serial number: a retried request is the same invalidation, and
the same change published again later is a new one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from fargo.aws.facade import Aws
from fargo.edge.site_files import IMMUTABLE, RESERVED_PREFIX, SiteFile, site_files
from fargo.errors import AwsError
from fargo.progress import Reporter

MANIFEST_KEY = f"{RESERVED_PREFIX}site.json"
MANIFEST_FORMAT = 1
MAX_PATHS = 1000
UPLOAD_WORKERS = 8
RETIRED_DAYS = 7
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
# Characters a CloudFront invalidation path keeps as they are; the rest is percent-encoded.
_PATH_SAFE = "/!$&'()+,;=:@"


@dataclass(frozen=True)
class Published:
    """One key of the manifest: what the bucket holds under it."""

    sha256: str
    content_type: str
    cache_control: str
    # When a content-hashed asset left the directory (epoch seconds); None while it is live.
    retired_at: float | None = None


@dataclass(frozen=True)
class SiteManifest:
    serial: int
    files: dict[str, Published] = field(default_factory=dict)

    def to_json(self) -> bytes:
        files = {
            key: {
                k: v
                for k, v in (
                    ("sha256", entry.sha256),
                    ("content_type", entry.content_type),
                    ("cache_control", entry.cache_control),
                    ("retired_at", entry.retired_at),
                )
                if v is not None
            }
            for key, entry in sorted(self.files.items())
        }
        document = {"format": MANIFEST_FORMAT, "serial": self.serial, "files": files}
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> SiteManifest | None:
        """None for anything this version did not write: then every file is uploaded."""
        try:
            document = json.loads(raw)
            if document["format"] != MANIFEST_FORMAT:
                return None
            files = {
                str(key): Published(
                    str(entry["sha256"]),
                    str(entry["content_type"]),
                    str(entry["cache_control"]),
                    float(entry["retired_at"]) if "retired_at" in entry else None,
                )
                for key, entry in document["files"].items()
            }
            return cls(int(document["serial"]), files)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.to_json()).hexdigest()


@dataclass(frozen=True)
class SitePlan:
    upload: tuple[SiteFile, ...]
    delete: tuple[str, ...]
    kept: tuple[str, ...]  # content-hashed assets gone from the directory, still served
    paths: tuple[str, ...]  # to invalidate
    manifest: SiteManifest  # what the bucket holds afterwards
    changed: bool  # anything to write at all


@dataclass(frozen=True)
class SiteResult:
    uploaded: tuple[str, ...]
    deleted: tuple[str, ...]
    kept: tuple[str, ...]
    invalidated: tuple[str, ...]
    invalidation_id: str | None

    @property
    def changed(self) -> bool:
        return bool(self.uploaded or self.deleted or self.invalidation_id)


def plan_site(files: dict[str, SiteFile], previous: SiteManifest | None, now: float) -> SitePlan:
    """What a publish of `files` over `previous` does. Pure."""
    before = previous.files if previous is not None else {}
    entries: dict[str, Published] = {}
    upload: list[SiteFile] = []
    stale: list[str] = []
    for key, file in files.items():
        entry = Published(file.sha256, file.content_type, file.cache_control)
        entries[key] = entry
        old = before.get(key)
        if old is not None and replace(old, retired_at=None) == entry:
            continue  # the bucket holds it already (a returning retired asset too)
        upload.append(file)
        if old is not None or not file.immutable:
            stale.append(key)
    delete: list[str] = []
    kept: list[str] = []
    for key, old in before.items():
        if key in files:
            continue
        if old.cache_control != IMMUTABLE:
            delete.append(key)
            stale.append(key)
        elif old.retired_at is not None and now - old.retired_at >= RETIRED_DAYS * 86400:
            delete.append(key)  # long retired: no cached page still asks for it
        else:
            kept.append(key)
            entries[key] = replace(old, retired_at=old.retired_at or now)
    changed = previous is None or bool(upload or delete) or entries != before
    serial = (previous.serial if previous is not None else 0) + (1 if changed else 0)
    return SitePlan(
        upload=tuple(upload),
        delete=tuple(sorted(delete)),
        kept=tuple(sorted(kept)),
        paths=invalidation_paths(stale),
        manifest=SiteManifest(serial, entries),
        changed=changed,
    )


def invalidation_paths(keys: Iterable[str]) -> tuple[str, ...]:
    paths: set[str] = set()
    for key in keys:
        paths.add("/" + quote(key, safe=_PATH_SAFE))
        posix = PurePosixPath(key)
        if posix.name == "index.html":
            parent = posix.parent.as_posix()
            paths.add("/" if parent == "." else "/" + quote(parent, safe=_PATH_SAFE) + "/")
    if len(paths) > MAX_PATHS:
        return ("/*",)
    return tuple(sorted(paths))


@dataclass(frozen=True)
class SiteSource:
    """A directory published to the site bucket under the key `prefix`: the static site at
    the root, the assets of `cdn: { app }` under their path (`_next/static/`, since
    CloudFront asks S3 for the viewer's whole path). `where` names it in errors."""

    directory: Path
    bucket: str
    prefix: str = ""
    where: str = "cdn.static"

    def plan(self, aws: Aws, now: float) -> tuple[dict[str, SiteFile], SitePlan]:
        files = site_files(self.directory, self.prefix, self.where)
        return files, plan_site(files, _read_manifest(aws, self.bucket), now)


def publish_site(
    aws: Aws,
    source: SiteSource,
    *,
    distribution_id: str,
    reporter: Reporter,
    now: Callable[[], float] = time.time,
) -> SiteResult:
    """Upload what changed in the source's directory and invalidate it in the distribution."""
    files, plan = source.plan(aws, now())
    bucket = source.bucket
    if not plan.changed:
        reporter.note(f"site: {len(files)} files, none changed")
        return SiteResult((), (), plan.kept, (), None)
    if plan.upload:
        reporter.note(f"site: uploading {len(plan.upload)} of {len(files)} files to {bucket}")
        _upload(aws, bucket, plan.upload)
    if plan.delete:
        reporter.note(
            f"site: deleting {len(plan.delete)} files no longer in {source.directory.name}"
        )
        _delete(aws, bucket, plan.delete)
    if plan.kept:
        reporter.note(f"site: keeping {len(plan.kept)} hashed assets older pages may still load")
    invalidation_id = None
    if plan.paths:
        invalidation_id = _invalidate(aws, distribution_id, plan)
        reporter.note(f"site: invalidation {invalidation_id} for {len(plan.paths)} paths")
    aws.call(
        "s3",
        "put_object",
        Bucket=bucket,
        Key=MANIFEST_KEY,
        Body=plan.manifest.to_json(),
        ContentType="application/json",
        CacheControl="no-store",
    )
    return SiteResult(
        uploaded=tuple(f.key for f in plan.upload),
        deleted=plan.delete,
        kept=plan.kept,
        invalidated=plan.paths,
        invalidation_id=invalidation_id,
    )


def preview_site(aws: Aws, source: SiteSource, now: Callable[[], float] = time.time) -> SitePlan:
    """What `publish_site` would do, read-only: for `fargo plan`."""
    return source.plan(aws, now())[1]


def _read_manifest(aws: Aws, bucket: str) -> SiteManifest | None:
    try:
        found = aws.call("s3", "get_object", Bucket=bucket, Key=MANIFEST_KEY)
    except AwsError as error:
        if error.code in ("NoSuchKey", "404"):
            return None
        raise
    return SiteManifest.from_json(found["Body"].read())


def _upload(aws: Aws, bucket: str, files: tuple[SiteFile, ...]) -> None:
    pages = [f for f in files if f.content_type.startswith("text/html")]
    assets = [f for f in files if f not in pages]
    with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS) as pool:
        for wave in (assets, pages):
            futures = [pool.submit(_put, aws, bucket, f) for f in wave]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in done:
                future.result()  # the first failure stops the publish


def _put(aws: Aws, bucket: str, file: SiteFile) -> None:
    with file.path.open("rb") as body:
        aws.call(
            "s3",
            "put_object",
            Bucket=bucket,
            Key=file.key,
            Body=body,
            ContentType=file.content_type,
            CacheControl=file.cache_control,
        )


def _delete(aws: Aws, bucket: str, keys: tuple[str, ...]) -> None:
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = keys[start : start + _DELETE_BATCH]
        answer: dict[str, Any] = aws.call(
            "s3",
            "delete_objects",
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
        )
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise AwsError(
                f"s3:delete_objects failed for {len(errors)} keys, first {first.get('Key')}: "
                f"{first.get('Code')}: {first.get('Message')}",
                hint="check the caller's s3:DeleteObject permission on the site bucket",
                code=first.get("Code"),
            )


def _invalidate(aws: Aws, distribution_id: str, plan: SitePlan) -> str:
    answer = aws.call(
        "cloudfront",
        "create_invalidation",
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(plan.paths), "Items": list(plan.paths)},
            "CallerReference": f"fargo-site-{plan.manifest.digest[:40]}",
        },
    )
    return str(answer["Invalidation"]["Id"])
