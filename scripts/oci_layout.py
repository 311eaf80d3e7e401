"""Write a single-layer OCI image layout by hand: the part the base image scripts share.

Every timestamp and owner in the layer, config and manifest is fixed, so the same files give
the same digest on every machine. Only the standard library is used, so any python3 can run
the scripts that import this (they run with scripts/ as sys.path[0]).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# The layout's epoch: a fixed time keeps the digest independent of when the script ran.
EPOCH = "1970-01-01T00:00:00Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Debian architecture → OCI (architecture, variant). The images hold the host's binaries.
DEBIAN_TO_OCI = {"amd64": ("amd64", None), "arm64": ("arm64", "v8")}
# /etc/passwd and /etc/group, for images that say `USER nobody`. With no /etc/shadow, "x"
# lets nobody log in: no password exists anywhere.
USERS = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUPS = "root:x:0:\nnogroup:x:65534:\n"


class ScriptError(Exception):
    """A problem the user can fix; printed without a traceback."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    data: bytes

    @classmethod
    def of(cls, data: bytes) -> Blob:
        return cls(f"sha256:{hashlib.sha256(data).hexdigest()}", len(data), data)


def oci_platform() -> tuple[str, str | None]:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if arch not in DEBIAN_TO_OCI:
        raise ScriptError(
            f"no OCI platform known for Debian architecture {arch!r}",
            f"fargo runs on Fargate's {' and '.join(DEBIAN_TO_OCI)}; build the base image there",
        )
    return DEBIAN_TO_OCI[arch]


def tar_entry(
    name: str, kind: bytes, mode: int, *, target: str = "", size: int = 0
) -> tarfile.TarInfo:
    """A layer entry owned by root with mtime 0."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.linkname = target
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def write_layout(
    out_dir: Path,
    tag: str,
    tar: bytes,
    *,
    config: dict[str, object],
    created_by: str,
    compresslevel: int = 9,
) -> str:
    """Write an image of one layer (the uncompressed `tar`) and return its manifest digest.

    `config` is the image config's `config` object (Env, Cmd, WorkingDir, ...).
    """
    architecture, variant = oci_platform()
    # mtime=0 keeps gzip's header, and so the blob digest, the same on every run.
    layer = Blob.of(gzip.compress(tar, compresslevel=compresslevel, mtime=0))
    platform: dict[str, object] = {"architecture": architecture, "os": "linux"}
    if variant:
        platform["variant"] = variant
    image_config = Blob.of(
        json_bytes(
            {
                **platform,
                "created": EPOCH,
                "config": config,
                "rootfs": {
                    "type": "layers",
                    "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"],
                },
                "history": [{"created": EPOCH, "created_by": created_by}],
            }
        )
    )
    manifest = Blob.of(
        json_bytes(
            {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": {
                    "mediaType": MEDIA_CONFIG,
                    "digest": image_config.digest,
                    "size": image_config.size,
                },
                "layers": [{"mediaType": MEDIA_LAYER, "digest": layer.digest, "size": layer.size}],
            }
        )
    )
    blobs = out_dir / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in (layer, image_config, manifest):
        (blobs / blob.digest.removeprefix("sha256:")).write_bytes(blob.data)
    (out_dir / "oci-layout").write_bytes(json_bytes({"imageLayoutVersion": "1.0.0"}))
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": MEDIA_MANIFEST,
                "digest": manifest.digest,
                "size": manifest.size,
                "platform": platform,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (out_dir / "index.json").write_bytes(json_bytes(index))
    return manifest.digest


def json_bytes(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def clear(out_dir: Path, *, force: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise ScriptError(f"{out_dir} exists and is not empty", "pass --force to replace it")
        shutil.rmtree(out_dir)


def write_and_report(
    script: str, out_dir: Path, tag: str, write: Callable[[], str], *, force: bool
) -> int:
    """A script's main: clear `out_dir`, `write` the layout, print `OUT_DIR:TAG DIGEST`; a
    ScriptError is printed with its hint, and the exit status is 1."""
    try:
        clear(out_dir, force=force)
        digest = write()
    except ScriptError as error:
        sys.stderr.write(f"{script}: {error}\n  hint: {error.hint}\n")
        return 1
    sys.stdout.write(f"{out_dir}:{tag} {digest}\n")
    return 0
