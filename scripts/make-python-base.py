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
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import oci_layout
from oci_layout import GROUPS, PATH_ENV, USERS, ScriptError, clear

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
# Dependencies only maintainer scripts use; no maintainer script runs here, so neither these
# nor what they depend on go in the image.
PRUNED = frozenset(
    {
        "cdebconf",
        "debconf",
        "debconf-2.0",
        "debianutils",
        "dpkg",
        "install-info",
        "openssl",
        "perl",
        "perl-base",
        "tar",
    }
)
APT_FIELDS = ("Depends", "PreDepends")
APT_FLAGS = (
    "--no-recommends",
    "--no-suggests",
    "--no-conflicts",
    "--no-breaks",
    "--no-replaces",
    "--no-enhances",
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
DROPPED_DIRS = ("usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/locale")
INSTALL_HINT = "run it on Debian 12 with apt-get, dpkg-deb and current apt lists (apt-get update)"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fargo" / "debs"


def _run(argv: list[str], *, cwd: Path | None = None) -> str:
    if shutil.which(argv[0]) is None:
        raise ScriptError(f"{argv[0]} is not installed", INSTALL_HINT)
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd)
    if result.returncode != 0:
        command = " ".join(argv[:3])
        raise ScriptError(f"{command} ... failed:\n{result.stderr.strip()}", INSTALL_HINT)
    return result.stdout


def direct_depends(packages: list[str]) -> dict[str, set[str]]:
    """Each package's Depends and Pre-Depends: the first alternative, virtuals by provider."""
    out = _run(["apt-cache", "depends", *APT_FLAGS, *packages])
    depends: dict[str, set[str]] = {}
    current: set[str] = set()
    pending_alternative = False
    virtual = False
    for line in out.splitlines():
        if not line.startswith(" "):
            current = depends.setdefault(line.strip().removesuffix(":any"), set())
            pending_alternative = virtual = False
            continue
        stripped = line.strip()
        if line.startswith("    "):  # a provider of the virtual package on the line above
            if virtual:
                current.add(stripped.removesuffix(":any"))
                virtual = False
            continue
        alternative = stripped.startswith("|")
        field, _, name = stripped.lstrip("|").partition(": ")
        if field not in APT_FIELDS:
            continue
        if pending_alternative:  # an earlier alternative of this group was taken
            pending_alternative = alternative
            continue
        pending_alternative = alternative
        name = name.removesuffix(":any")
        if name.startswith("<"):
            name = name.strip("<>").removesuffix(":any")
            if name in PRUNED:
                continue
            virtual = True
        elif name not in PRUNED:
            current.add(name)
    return depends


def resolve(seeds: tuple[str, ...]) -> list[str]:
    wanted: set[str] = set()
    frontier = sorted(set(seeds))
    while frontier:
        wanted.update(frontier)
        found = direct_depends(frontier)
        frontier = sorted({dep for deps in found.values() for dep in deps} - wanted - PRUNED)
    return sorted(wanted)


def candidates(packages: list[str]) -> dict[str, str]:
    """Package → the .deb file name `apt-get download` saves its candidate version as."""
    out = _run(["apt-cache", "show", "--no-all-versions", *packages])
    names: dict[str, str] = {}
    for paragraph in out.split("\n\n"):
        lines = [line for line in paragraph.splitlines() if ": " in line and line[0] != " "]
        fields = dict(line.split(": ", 1) for line in lines)
        if "Package" in fields:
            version = fields["Version"].replace(":", "%3a")
            names[fields["Package"]] = f"{fields['Package']}_{version}_{fields['Architecture']}.deb"
    missing = sorted(set(packages) - names.keys())
    if missing:
        raise ScriptError(f"apt knows no candidate for {', '.join(missing)}", INSTALL_HINT)
    return names


def fetch(packages: list[str], cache: Path) -> list[Path]:
    """The packages' .debs, downloaded into `cache` unless already there."""
    files = candidates(packages)
    cache.mkdir(parents=True, exist_ok=True)
    missing = sorted(p for p, name in files.items() if not (cache / name).is_file())
    if missing:
        sys.stderr.write(f"make-python-base: downloading {len(missing)} packages to {cache}\n")
        # Into a scratch directory first, so an interrupted download leaves no partial .deb.
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            _run(["apt-get", "download", *missing], cwd=Path(scratch))
            for deb in Path(scratch).glob("*.deb"):
                deb.replace(cache / deb.name)
    absent = sorted(name for name in files.values() if not (cache / name).is_file())
    if absent:
        raise ScriptError(f"apt-get download saved no {', '.join(absent)}", INSTALL_HINT)
    return [cache / files[p] for p in sorted(files)]


def assemble(debs: list[Path], root: Path, local_cas: list[Path]) -> None:
    """Unpack the packages into `root` and do what their maintainer scripts would."""
    for deb in debs:
        _run(["dpkg-deb", "-x", str(deb), str(root)])
    (root / f"usr/lib/{PYTHON}/EXTERNALLY-MANAGED").unlink(missing_ok=True)
    for dropped in DROPPED_DIRS:
        shutil.rmtree(root / dropped, ignore_errors=True)
    for path in (root / "usr/share/doc").rglob("*"):
        if path.is_file() and path.name != "copyright":
            path.unlink()
    for link, target in SYMLINKS.items():
        path = root / link
        if not path.exists() and not path.is_symlink():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(target)
    for directory in ("root", "tmp", "var/tmp", "etc/ssl/certs"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "var/tmp").chmod(0o1777)
    nologin = root / "usr/sbin/nologin"
    if not nologin.exists():
        nologin.write_text(NOLOGIN)
        nologin.chmod(0o755)
    (root / "etc/passwd").write_text(USERS)
    (root / "etc/group").write_text(GROUPS)
    # update-ca-certificates, without openssl: every certificate Debian ships, in one bundle.
    certificates = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    if not certificates:
        raise ScriptError("ca-certificates unpacked no certificates", INSTALL_HINT)
    bundle = "".join(c.read_text().rstrip("\n") + "\n" for c in [*certificates, *local_cas])
    (root / CA_BUNDLE).write_text(bundle)
    python = root / "usr/bin" / PYTHON
    if not python.is_file():
        raise ScriptError(f"no {python} after unpacking", INSTALL_HINT)


def layer_tar(root: Path) -> bytes:
    """`root` as an uncompressed layer: sorted, owned by root, every mtime 0."""

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    out = BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).parts):
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False, filter=normalise)
    return out.getvalue()


def local_certificates(directory: Path | None) -> list[Path]:
    if directory is None or not directory.is_dir():
        return []
    found = sorted(directory.rglob("*.crt"))
    for certificate in found:
        sys.stderr.write(f"make-python-base: adding local CA {certificate}\n")
    return found


def write_layout(out_dir: Path, tag: str, cache: Path, local_ca_dir: Path | None) -> str:
    """Write the layout and return its manifest digest."""
    debs = fetch(resolve(SEEDS), cache)
    with tempfile.TemporaryDirectory(prefix="fargo-python-base-") as scratch:
        root = Path(scratch) / "rootfs"
        root.mkdir()
        assemble(debs, root, local_certificates(local_ca_dir))
        tar = layer_tar(root)
    return oci_layout.write_layout(
        out_dir,
        tag,
        tar,
        config={"Env": [PATH_ENV, "LANG=C.UTF-8"], "Cmd": ["python3"], "WorkingDir": "/"},
        created_by=f"fargo make-python-base: {PYTHON} from {len(debs)} Debian packages",
        compresslevel=6,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="directory to write the OCI layout into")
    parser.add_argument("--tag", default="3.11", help="ref name in index.json (3.11)")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=default_cache_dir(),
        help="where the .debs are kept (~/.cache/fargo/debs)",
    )
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
    out_dir: Path = args.out_dir
    try:
        clear(out_dir, force=args.force)
        digest = write_layout(
            out_dir, args.tag, args.cache_dir, None if args.no_local_ca else args.local_ca_dir
        )
    except ScriptError as error:
        sys.stderr.write(f"make-python-base: {error}\n  hint: {error.hint}\n")
        return 1
    sys.stdout.write(f"{out_dir}:{args.tag} {digest}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
