#!/usr/bin/env python3
"""Write a minimal Debian 12 image with python3.11 and pip as an OCI image layout, offline.

    python3 scripts/make-python-base.py OUT_DIR [--tag 3.11] [--force] [--cache-dir DIR]

No public registry is reachable where fargo's tests and demo run, so the example app's
`FROM python:3.12-slim` cannot be pulled there; Debian's apt repositories are reachable.
This assembles a python base image from Debian packages instead: python3.11, python3-pip,
dash (for `/bin/sh` in RUN steps) and passwd (for `groupadd`/`useradd`), with their
Depends and Pre-Depends resolved by `apt-cache depends`, less the packages only maintainer
scripts need (debconf, perl, dpkg, ...). Each .deb is unpacked with `dpkg-deb -x`, no
maintainer script runs, so the few things they would do are done here: the CA bundle, the
`python`/`pip`/`sh` symlinks, `nologin`, `/etc/passwd` and `/etc/group`, a world-writable `/tmp`.
Debian's EXTERNALLY-MANAGED marker is removed, so `pip install` works as in the official
python images (pip installs into /usr/local). Documentation is dropped except copyrights.

Like `update-ca-certificates` on this machine, the bundle also holds the certificates in
/usr/local/share/ca-certificates (`--local-ca-dir`; `--no-local-ca` leaves them out): where
outbound TLS goes through a proxy with its own CA, `pip install` in a RUN step needs it.

The .debs are kept in the user cache (`$XDG_CACHE_HOME/fargo/debs`, by default
`~/.cache/fargo/debs`): a rerun downloads nothing. The layer, config and manifest are
written with fixed timestamps and owners (scripts/oci_layout.py), so the same package
versions give the same digest. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import debian_rootfs
import oci_layout
from oci_layout import GROUPS, PATH_ENV, USERS, ScriptError

PYTHON = "python3.11"
# What the image is for; everything else comes in as a dependency of these.
SEEDS = (
    PYTHON,
    "python3",  # /usr/bin/python3
    "python3-pip",
    "ca-certificates",
    "media-types",  # /etc/mime.types, for mimetypes
    "netbase",  # /etc/services and /etc/protocols, for socket
    "dash",  # /bin/sh: Dockerfile RUN steps run in it
    "passwd",  # groupadd and useradd, for Dockerfiles that add a user
)
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"
# Extra symlinks (path → target) that maintainer scripts or update-alternatives would make.
SYMLINKS = {
    "bin/sh": "dash",
    "usr/bin/python": "python3",
    "usr/bin/pip": "pip3",
    # OpenSSL's default verify paths, which the (pruned) openssl package would link.
    "usr/lib/ssl/cert.pem": f"/{CA_BUNDLE}",
    "usr/lib/ssl/certs": "/etc/ssl/certs",
}
# The `login` package's nologin, which `useradd --shell /usr/sbin/nologin` expects; `login`
# itself needs debconf.
NOLOGIN = "#!/bin/sh\necho 'This account is currently not available.' >&2\nexit 1\n"


def debs(cache: Path) -> list[Path]:
    """The image's packages and their dependencies, as .debs in `cache`."""
    return debian_rootfs.fetch(debian_rootfs.resolve(SEEDS, debian_rootfs.MAINTAINER_ONLY), cache)


def assemble(debs: list[Path], root: Path, local_cas: list[Path]) -> None:
    """Unpack the packages into `root` and do what their maintainer scripts would."""
    debian_rootfs.unpack(debs, root, SYMLINKS)
    (root / f"usr/lib/{PYTHON}/EXTERNALLY-MANAGED").unlink(missing_ok=True)
    (root / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
    nologin = root / "usr/sbin/nologin"
    if not nologin.exists():
        nologin.write_text(NOLOGIN)
        nologin.chmod(0o755)
    (root / "etc/passwd").write_text(USERS)
    (root / "etc/group").write_text(GROUPS)
    # update-ca-certificates, without openssl: every certificate Debian ships, in one bundle.
    certificates = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    if not certificates:
        raise ScriptError("ca-certificates unpacked no certificates", debian_rootfs.INSTALL_HINT)
    bundle = "".join(c.read_text().rstrip("\n") + "\n" for c in [*certificates, *local_cas])
    (root / CA_BUNDLE).write_text(bundle)
    python = root / "usr/bin" / PYTHON
    if not python.is_file():
        raise ScriptError(f"no {python} after unpacking", debian_rootfs.INSTALL_HINT)


def local_certificates(directory: Path | None) -> list[Path]:
    if directory is None or not directory.is_dir():
        return []
    found = sorted(directory.rglob("*.crt"))
    for certificate in found:
        sys.stderr.write(f"make-python-base: adding local CA {certificate}\n")
    return found


def write_layout(out_dir: Path, tag: str, cache: Path, local_ca_dir: Path | None) -> str:
    """Write the layout and return its manifest digest."""
    packages = debs(cache)
    with tempfile.TemporaryDirectory(prefix="fargo-python-base-") as scratch:
        root = Path(scratch) / "rootfs"
        root.mkdir()
        assemble(packages, root, local_certificates(local_ca_dir))
        tar = debian_rootfs.layer_tar(root)
    return oci_layout.write_layout(
        out_dir,
        tag,
        tar,
        config={"Env": [PATH_ENV, "LANG=C.UTF-8"], "Cmd": ["python3"], "WorkingDir": "/"},
        created_by=f"fargo make-python-base: {PYTHON} from {len(packages)} Debian packages",
        compresslevel=6,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="directory to write the OCI layout into")
    parser.add_argument("--tag", default="3.11", help="ref name in index.json (3.11)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    debian_rootfs.add_cache_dir_option(parser)
    parser.add_argument(
        "--local-ca-dir",
        type=Path,
        default=LOCAL_CA_DIR,
        help=f"extra CA certificates (*.crt) for the bundle ({LOCAL_CA_DIR})",
    )
    parser.add_argument(
        "--no-local-ca", action="store_true", help="only Debian's CA certificates in the bundle"
    )
    args = parser.parse_args(argv)
    local_ca_dir = None if args.no_local_ca else args.local_ca_dir
    return oci_layout.write_and_report(
        "make-python-base",
        args.out_dir,
        args.tag,
        lambda: write_layout(args.out_dir, args.tag, args.cache_dir, local_ca_dir),
        force=args.force,
    )


if __name__ == "__main__":
    sys.exit(main())
