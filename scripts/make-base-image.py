#!/usr/bin/env python3
"""Write a minimal busybox base image as an OCI image layout, with no registry and no builder.

    python3 scripts/make-base-image.py OUT_DIR [--tag latest] [--busybox /bin/busybox]

No public registry is reachable where fargo's tests and demo run, so `FROM python:...` cannot
be built there. This makes the one base image they need from Debian's `busybox-static`
package (a static binary: the image needs no libc): the binary, a symlink per applet at the
path busybox itself reports (`sh`, `cat`, `wget`, ...), `/etc/passwd` and `/etc/group` with
root and nobody, and a world-writable `/tmp`. Layer, config and manifest are written by
hand, with every timestamp and owner fixed, so the same busybox gives the same digest on
every machine. Only the standard library is used, so any python3 can run it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# The layout's epoch: a fixed time keeps the digest independent of when the script ran.
EPOCH = "1970-01-01T00:00:00Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Debian architecture → OCI (architecture, variant). busybox-static is built per host arch.
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


def find_busybox() -> Path:
    """The binary the `busybox-static` package installed, wherever Debian put it."""
    missing = ScriptError(
        "the Debian package busybox-static is not installed",
        "apt-get install busybox-static (or `make system-deps`), or pass --busybox PATH",
    )
    if shutil.which("dpkg") is None:
        raise missing
    listing = subprocess.run(
        ["dpkg", "-L", "busybox-static"], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise missing
    for line in listing.stdout.splitlines():
        if line.endswith("/bin/busybox") and Path(line).is_file():
            return Path(line)
    raise missing


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


def applet_paths(busybox: Path) -> list[str]:
    """Where each applet belongs, as busybox itself says (`bin/sh`, `usr/bin/env`, ...)."""
    listing = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, check=True
    )
    # linuxrc is an init for initramfs images, not a command a container runs.
    return sorted(p for p in listing.stdout.split() if "/" in p and p != "bin/busybox")


def _entry(
    name: str, kind: bytes, mode: int, *, target: str = "", size: int = 0
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.linkname = target
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def layer_tar(busybox: Path) -> bytes:
    applets = applet_paths(busybox)
    dirs = {"bin", "etc", "root", "tmp", "usr", "usr/bin", "usr/sbin", "sbin"}
    dirs.update(str(Path(p).parent) for p in applets)
    files = {
        "etc/passwd": USERS.encode(),
        "etc/group": GROUPS.encode(),
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted(dirs):
            tar.addfile(_entry(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755))
        binary = busybox.read_bytes()
        tar.addfile(
            _entry("bin/busybox", tarfile.REGTYPE, 0o755, size=len(binary)), io.BytesIO(binary)
        )
        for name, content in sorted(files.items()):
            tar.addfile(
                _entry(name, tarfile.REGTYPE, 0o644, size=len(content)), io.BytesIO(content)
            )
        for applet in applets:
            tar.addfile(_entry(applet, tarfile.SYMTYPE, 0o777, target="/bin/busybox"))
    return out.getvalue()


def write_layout(out_dir: Path, tag: str, busybox: Path) -> str:
    """Write the layout and return its manifest digest."""
    architecture, variant = oci_platform()
    tar = layer_tar(busybox)
    # mtime=0 keeps gzip's header, and so the blob digest, the same on every run.
    layer = Blob.of(gzip.compress(tar, compresslevel=9, mtime=0))
    platform: dict[str, object] = {"architecture": architecture, "os": "linux"}
    if variant:
        platform["variant"] = variant
    config = Blob.of(
        _json(
            {
                **platform,
                "created": EPOCH,
                "config": {"Env": [PATH_ENV], "Cmd": ["/bin/sh"], "WorkingDir": "/"},
                "rootfs": {
                    "type": "layers",
                    "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"],
                },
                "history": [{"created": EPOCH, "created_by": "fargo make-base-image: busybox"}],
            }
        )
    )
    manifest = Blob.of(
        _json(
            {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": {"mediaType": MEDIA_CONFIG, "digest": config.digest, "size": config.size},
                "layers": [{"mediaType": MEDIA_LAYER, "digest": layer.digest, "size": layer.size}],
            }
        )
    )
    blobs = out_dir / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in (layer, config, manifest):
        (blobs / blob.digest.removeprefix("sha256:")).write_bytes(blob.data)
    (out_dir / "oci-layout").write_bytes(_json({"imageLayoutVersion": "1.0.0"}))
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
    (out_dir / "index.json").write_bytes(_json(index))
    return manifest.digest


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def clear(out_dir: Path, *, force: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise ScriptError(f"{out_dir} exists and is not empty", "pass --force to replace it")
        shutil.rmtree(out_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="directory to write the OCI layout into")
    parser.add_argument("--tag", default="latest", help="ref name in index.json (latest)")
    parser.add_argument("--busybox", type=Path, help="a static busybox (default: Debian's)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    args = parser.parse_args(argv)
    out_dir: Path = args.out_dir
    try:
        clear(out_dir, force=args.force)
        busybox = args.busybox or find_busybox()
        digest = write_layout(out_dir, args.tag, busybox)
    except ScriptError as error:
        sys.stderr.write(f"make-base-image: {error}\n  hint: {error.hint}\n")
        return 1
    sys.stdout.write(f"{out_dir}:{args.tag} {digest}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
