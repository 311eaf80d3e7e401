"""A remote build's source: the build context as a zip in S3, as a local builder would see it.

A local builder reads the context directory and leaves out what `.dockerignore` names; a
CodeBuild build gets the same files, zipped. The zip is byte-for-byte deterministic (sorted
entries, fixed timestamps and modes), so an unchanged context gives the same sha256 and the
same object key, and is uploaded once. The bucket is fargo's own, one per account and
region, private and emptied of sources after a week.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from fargo.aws.facade import Aws
from fargo.errors import AwsError, FargoError, InputError
from fargo.progress import Reporter

# zip cannot store times before 1980; any fixed time makes the archive reproducible.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Where a Dockerfile from outside the context goes: docker sends it beside the context too.
OUTSIDE_DOCKERFILE = ".fargo/Dockerfile"
SOURCE_PREFIX = "sources/"
SOURCE_DAYS = 7


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    exclude: bool  # False for a `!` exception


def dockerignore_patterns(text: str) -> list[_Pattern]:
    """`.dockerignore` lines as Docker reads them: `#` comments, `!` exceptions, `**`."""
    patterns: list[_Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        line = line.removeprefix("!").strip()
        cleaned = os.path.normpath(line).replace(os.sep, "/").lstrip("/")
        if cleaned in {"", "."}:
            continue
        patterns.append(_Pattern(_pattern_regex(cleaned), exclude))
    return patterns


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax (Go's filepath.Match plus `**`) as a regular expression."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    out.append("(.*/)?")  # `**/` also matches no directory at all
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def ignored(path: str, patterns: list[_Pattern]) -> bool:
    """Whether Docker leaves `path` (relative, /-separated) out of the context: the last
    pattern that matches it or one of its parent directories decides."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in candidates):
            result = pattern.exclude
    return result


def context_files(context: Path, dockerfile: Path) -> dict[str, Path]:
    """What a builder sees of `context`, by path in the archive; the Dockerfile and
    `.dockerignore` are always there, as docker always sends them."""
    ignore_file = context / ".dockerignore"
    patterns = dockerignore_patterns(ignore_file.read_text()) if ignore_file.is_file() else []
    files: dict[str, Path] = {}
    for directory, dirnames, filenames in os.walk(context, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(directory) / name
            relative = path.relative_to(context).as_posix()
            if path.is_file() and not ignored(relative, patterns):
                files[relative] = path
    if ignore_file.is_file():
        files[".dockerignore"] = ignore_file
    files[dockerfile_in_archive(context, dockerfile)] = dockerfile
    return files


def dockerfile_in_archive(context: Path, dockerfile: Path) -> str:
    """The Dockerfile's path inside the source archive."""
    resolved, root = dockerfile.resolve(), context.resolve()
    if resolved.is_relative_to(root):
        return resolved.relative_to(root).as_posix()
    return OUTSIDE_DOCKERFILE


def write_archive(files: dict[str, Path], out: IO[bytes]) -> None:
    """A zip of `files` that depends only on their paths, contents and executable bits."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            path = files[name]
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = 3  # unix, so the mode below is read back
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(info, "w") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)


@dataclass(frozen=True)
class SourceArchive:
    path: Path
    sha256: str

    @classmethod
    def of(cls, context: Path, dockerfile: Path, out: Path) -> SourceArchive:
        if not context.is_dir():
            raise InputError(
                f"build context {context} is not a directory",
                hint="`image: { build: DIR }` names a directory, relative to fargo.yml",
            )
        if not dockerfile.is_file():
            raise InputError(
                f"no Dockerfile at {dockerfile}",
                hint="add one, or name another file with `dockerfile:` under `image: { build }`",
            )
        with out.open("wb") as handle:
            write_archive(context_files(context, dockerfile), handle)
        digest = hashlib.sha256()
        with out.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return cls(out, digest.hexdigest())


def source_bucket(account: str, region: str) -> str:
    return f"fargo-builds-{account}-{region}"


def source_key(app: str, archive: SourceArchive) -> str:
    """Content-addressed: the same context is the same object."""
    return f"{SOURCE_PREFIX}{app}/{archive.sha256}.zip"


class SourceBucket:
    """fargo's build-source bucket in one account and region, created when missing."""

    def __init__(self, aws: Aws, account: str, reporter: Reporter) -> None:
        self._aws = aws
        self._account = account
        self._reporter = reporter
        self.name = source_bucket(account, aws.config.region)

    def upload(self, app: str, archive: SourceArchive) -> str:
        """Put `archive` in the bucket unless it is there already; return its key."""
        self.ensure()
        key = source_key(app, archive)
        if self._exists(key):
            self._reporter.note(f"source {archive.sha256[:12]} is already in s3://{self.name}")
            return key
        size = archive.path.stat().st_size / 1024 / 1024
        self._reporter.note(f"uploading source {archive.sha256[:12]} ({size:.1f} MiB)")
        with archive.path.open("rb") as body:
            self._aws.call(
                "s3",
                "put_object",
                Bucket=self.name,
                Key=key,
                Body=body,
                ContentType="application/zip",
                ExpectedBucketOwner=self._account,
            )
        return key

    def ensure(self) -> None:
        """Create the bucket when missing: private, encrypted, sources expiring."""
        try:
            self._aws.call("s3", "head_bucket", Bucket=self.name, ExpectedBucketOwner=self._account)
        except AwsError as error:
            if error.code in {"403", "AccessDenied"}:
                raise self._not_ours() from None
            if error.code not in {"404", "NoSuchBucket", "NotFound"}:
                raise
            self._create()

    def _create(self) -> None:
        region = self._aws.config.region
        create: dict[str, object] = {"Bucket": self.name, "ObjectOwnership": "BucketOwnerEnforced"}
        if region != "us-east-1":  # the one region that takes no location constraint
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._aws.call("s3", "create_bucket", **create)
        except AwsError as error:
            if error.code == "BucketAlreadyExists":
                raise self._not_ours() from None
            if error.code != "BucketAlreadyOwnedByYou":
                raise
        owner = {"Bucket": self.name, "ExpectedBucketOwner": self._account}
        self._aws.call(
            "s3",
            "put_public_access_block",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            **owner,
        )
        self._aws.call(
            "s3",
            "put_bucket_encryption",
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
            **owner,
        )
        self._aws.call(
            "s3",
            "put_bucket_lifecycle_configuration",
            LifecycleConfiguration={"Rules": [lifecycle_rule()]},
            **owner,
        )
        self._reporter.note(f"created s3://{self.name} for build sources")

    def _exists(self, key: str) -> bool:
        try:
            self._aws.call(
                "s3", "head_object", Bucket=self.name, Key=key, ExpectedBucketOwner=self._account
            )
        except AwsError as error:
            if error.code in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def _not_ours(self) -> FargoError:
        return FargoError(
            f"the S3 bucket {self.name} belongs to another account",
            hint="bucket names are global; delete or rename that bucket, or build locally "
            "(leave `remote` out of `image: { build }`)",
        )


def lifecycle_rule() -> dict[str, object]:
    """Sources are needed only while their build runs; a week leaves time to look."""
    return {
        "ID": "expire-build-sources",
        "Status": "Enabled",
        "Filter": {"Prefix": SOURCE_PREFIX},
        "Expiration": {"Days": SOURCE_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }
