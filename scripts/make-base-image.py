#!/usr/bin/env python3
"""Write a minimal busybox base image as an OCI image layout, with no registry and no builder.

    python3 scripts/make-base-image.py OUT_DIR [--tag latest] [--busybox /bin/busybox]

No public registry is reachable where fargo's tests and demo run, so `FROM python:...` cannot
be built there. This makes the one base image they need from Debian's `busybox-static`
package (a static binary: the image needs no libc): the binary, a symlink per applet at the
path busybox itself reports (`sh`, `cat`, `wget`, ...), `/etc/passwd` and `/etc/group` with
root and nobody, and a world-writable `/tmp`. Layer, config and manifest are written by
hand (scripts/oci_layout.py), with every timestamp and owner fixed, so the same busybox
gives the same digest on every machine. Only the standard library is used, so any python3
can run it.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import oci_layout
from oci_layout import GROUPS, PATH_ENV, USERS, ScriptError, tar_entry


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


def applet_paths(busybox: Path) -> list[str]:
    """Where each applet belongs, as busybox itself says (`bin/sh`, `usr/bin/env`, ...)."""
    listing = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, check=True
    )
    # linuxrc is an init for initramfs images, not a command a container runs.
    return sorted(p for p in listing.stdout.split() if "/" in p and p != "bin/busybox")


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
            tar.addfile(tar_entry(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755))
        binary = busybox.read_bytes()
        tar.addfile(
            tar_entry("bin/busybox", tarfile.REGTYPE, 0o755, size=len(binary)), io.BytesIO(binary)
        )
        for name, content in sorted(files.items()):
            tar.addfile(
                tar_entry(name, tarfile.REGTYPE, 0o644, size=len(content)), io.BytesIO(content)
            )
        for applet in applets:
            tar.addfile(tar_entry(applet, tarfile.SYMTYPE, 0o777, target="/bin/busybox"))
    return out.getvalue()


def write_layout(out_dir: Path, tag: str, busybox: Path) -> str:
    """Write the layout and return its manifest digest."""
    return oci_layout.write_layout(
        out_dir,
        tag,
        layer_tar(busybox),
        config={"Env": [PATH_ENV], "Cmd": ["/bin/sh"], "WorkingDir": "/"},
        created_by="fargo make-base-image: busybox",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="directory to write the OCI layout into")
    parser.add_argument("--tag", default="latest", help="ref name in index.json (latest)")
    parser.add_argument("--busybox", type=Path, help="a static busybox (default: Debian's)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    args = parser.parse_args(argv)
    return oci_layout.write_and_report(
        "make-base-image",
        args.out_dir,
        args.tag,
        lambda: write_layout(args.out_dir, args.tag, args.busybox or find_busybox()),
        force=args.force,
    )


if __name__ == "__main__":
    sys.exit(main())
