"""The release history of an app and environment, kept in the account, not on a laptop.

Each successful deploy that changed what runs records a release: one JSON object in the
`fargo-bootstrap` stack's artifact bucket (private, encrypted, versioned), at
`releases/<app>/<env>/<number, 8 digits>.json`. An SSM parameter holds 4 KB, and a services
template alone is larger. The number is the highest recorded plus one, claimed with a
conditional write (`If-None-Match: *`), so two writers can never take the same number even
outside the deploy lock. The last `RELEASES_KEPT` are kept; older ones are deleted.

A deploy that changes nothing records nothing: a release whose content (everything but its
number and time) equals the latest one's is not written again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fargo.aws.facade import Aws
from fargo.errors import AwsError, DeployFailed
from fargo.images.tags import run_git
from fargo.model.app import App

RELEASES_KEPT = 50
FORMAT = 1
_PREFIX = "releases"
_DIGITS = 8  # keys list in number order: S3 lists keys in UTF-8 byte order
_CLAIM_ATTEMPTS = 5


@dataclass(frozen=True)
class GitCommit:
    """The commit of the git checkout that holds the manifest, and whether the checkout had
    changes not committed (then the commit alone does not say what was deployed)."""

    commit: str
    dirty: bool


@dataclass(frozen=True)
class Release:
    app: str
    env: str
    manifest_digest: str  # LoadedManifest.digest: the validated, overlaid manifest
    images: dict[str, str]  # every service's image reference, digest-pinned when fargo built it
    services_template: dict[str, Any] | None  # None: the app has no services stack
    services_parameters: dict[str, str] = field(default_factory=dict)
    git: GitCommit | None = None
    number: int = 0  # 0 until recorded
    time: str = ""  # when recorded, ISO 8601 in UTC

    def content(self) -> dict[str, Any]:
        """What the release is, without when it was recorded: equal content, same release."""
        body = self.to_json()
        del body["number"], body["time"]
        return body

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "number": self.number,
            "time": self.time,
            "app": self.app,
            "env": self.env,
            "manifest_digest": self.manifest_digest,
            "git": None
            if self.git is None
            else {"commit": self.git.commit, "dirty": self.git.dirty},
            "images": dict(sorted(self.images.items())),
            "services_template": self.services_template,
            "services_parameters": dict(sorted(self.services_parameters.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        git = data.get("git")
        return cls(
            app=str(data["app"]),
            env=str(data["env"]),
            manifest_digest=str(data["manifest_digest"]),
            images={str(k): str(v) for k, v in data["images"].items()},
            services_template=data.get("services_template"),
            services_parameters={
                str(k): str(v) for k, v in (data.get("services_parameters") or {}).items()
            },
            git=None if git is None else GitCommit(str(git["commit"]), bool(git["dirty"])),
            number=int(data["number"]),
            time=str(data["time"]),
        )


def release_prefix(app: str, env: str) -> str:
    return f"{_PREFIX}/{app}/{env}/"


def release_key(app: str, env: str, number: int) -> str:
    return f"{release_prefix(app, env)}{number:0{_DIGITS}d}.json"


def release_number(key: str, prefix: str) -> int | None:
    """The number a key under `prefix` names; None for anything else found there."""
    if not key.startswith(prefix) or not key.endswith(".json"):
        return None
    stem = key[len(prefix) : -len(".json")]
    return int(stem) if stem.isascii() and stem.isdigit() else None


def to_prune(numbers: list[int], keep: int = RELEASES_KEPT) -> list[int]:
    """The numbers beyond the newest `keep`, oldest first."""
    ordered = sorted(numbers)
    return ordered[: max(0, len(ordered) - keep)]


def git_commit(directory: Path) -> GitCommit | None:
    """HEAD of the checkout holding `directory`, and whether it has changes; None outside
    a git checkout or without git."""
    commit = run_git(directory, "rev-parse", "HEAD")
    if commit is None:
        return None
    changes = run_git(directory, "status", "--porcelain")
    return GitCommit(commit, bool(changes))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ReleaseStore:
    """The releases of one app and environment in the artifact bucket."""

    def __init__(self, aws: Aws, bucket: str, app: App, *, keep: int = RELEASES_KEPT) -> None:
        self._aws = aws
        self._bucket = bucket
        self._app = app
        self._keep = keep
        self._prefix = release_prefix(app.name, app.env)

    def numbers(self) -> list[int]:
        """The recorded numbers, oldest first (reads only)."""
        keys = self._aws.paginate(
            "s3", "list_objects_v2", "Contents", Bucket=self._bucket, Prefix=self._prefix
        )
        found = (release_number(str(k["Key"]), self._prefix) for k in keys)
        return sorted(n for n in found if n is not None)

    def read(self, number: int) -> Release:
        key = release_key(self._app.name, self._app.env, number)
        body = self._aws.call("s3", "get_object", Bucket=self._bucket, Key=key)["Body"].read()
        return Release.from_json(json.loads(body))

    def latest(self) -> Release | None:
        numbers = self.numbers()
        return self.read(numbers[-1]) if numbers else None

    def releases(self) -> list[Release]:
        """Every kept release, newest first (reads only)."""
        return [self.read(n) for n in reversed(self.numbers())]

    def record(self, release: Release) -> Release:
        """Store `release` under the next number, or return the latest unchanged when it
        holds the same content (nothing is written then). The oldest beyond the kept are
        left for the caller to untag and delete (fargo.release.record)."""
        for _ in range(_CLAIM_ATTEMPTS):
            numbers = self.numbers()
            latest = self.read(numbers[-1]) if numbers else None
            if latest is not None and latest.content() == release.content():
                return latest
            recorded = replace(release, number=(numbers[-1] if numbers else 0) + 1, time=now())
            if self._claim(recorded):
                return recorded
        raise DeployFailed(
            f"could not record a release of {self._app.name}/{self._app.env}: "
            f"{_CLAIM_ATTEMPTS} other writers took the next number first",
            hint="the stacks are deployed; run deploy again to record the release",
        )

    def beyond_kept(self) -> list[int]:
        """The numbers beyond the newest `keep`, oldest first (reads only)."""
        return to_prune(self.numbers(), self._keep)

    def delete(self, numbers: list[int]) -> None:
        """Delete the releases `numbers` from the history."""
        for start in range(0, len(numbers), 1000):  # DeleteObjects takes 1000 keys a call
            keys = [
                {"Key": release_key(self._app.name, self._app.env, n)}
                for n in numbers[start : start + 1000]
            ]
            self._aws.call(
                "s3",
                "delete_objects",
                Bucket=self._bucket,
                Delete={"Objects": keys, "Quiet": True},
            )

    def _claim(self, release: Release) -> bool:
        """Write `release` unless its number is taken (If-None-Match: *)."""
        try:
            self._aws.call(
                "s3",
                "put_object",
                Bucket=self._bucket,
                Key=release_key(self._app.name, self._app.env, release.number),
                Body=json.dumps(release.to_json(), indent=1, sort_keys=True).encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except AwsError as error:
            # 409 ConditionalRequestConflict: a concurrent write to the key is in flight.
            if error.code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True
