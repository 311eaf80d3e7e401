"""A root filesystem from Debian packages, offline: the part the Debian-built images share.

The packages an image is for (its seeds) are resolved with their Depends and Pre-Depends by
`apt-cache depends`, less those only maintainer scripts need, downloaded once with `apt-get
download` into the user cache (`$XDG_CACHE_HOME/fargo/debs`, by default `~/.cache/fargo/debs`),
and unpacked with `dpkg-deb -x`: no maintainer script runs, so each image script does the few
things they would. The layer tar has fixed timestamps and owners, so the same package versions
give the same digest. Only the standard library is used (scripts/ is sys.path[0]).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from io import BytesIO
from pathlib import Path

from oci_layout import ScriptError

# Dependencies only maintainer scripts use; no maintainer script runs here, so neither these
# nor what they depend on go in an image.
MAINTAINER_ONLY = frozenset(
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
DROPPED_DIRS = ("usr/share/man", "usr/share/info", "usr/share/lintian", "usr/share/locale")
INSTALL_HINT = "run it on Debian 12 with apt-get, dpkg-deb and current apt lists (apt-get update)"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fargo" / "debs"


def add_cache_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=default_cache_dir(),
        help="where the .debs are kept (~/.cache/fargo/debs)",
    )


def run(argv: list[str], *, cwd: Path | None = None) -> str:
    if shutil.which(argv[0]) is None:
        raise ScriptError(f"{argv[0]} is not installed", INSTALL_HINT)
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd)
    if result.returncode != 0:
        command = " ".join(argv[:3])
        raise ScriptError(f"{command} ... failed:\n{result.stderr.strip()}", INSTALL_HINT)
    return result.stdout


def direct_depends(packages: list[str], pruned: frozenset[str]) -> dict[str, set[str]]:
    """Each package's Depends and Pre-Depends: the first alternative, virtuals by provider.

    A group whose first alternative is pruned is dropped whole."""
    out = run(["apt-cache", "depends", *APT_FLAGS, *packages])
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
            if name in pruned:
                continue
            virtual = True
        elif name not in pruned:
            current.add(name)
    return depends


def resolve(seeds: Iterable[str], pruned: frozenset[str]) -> list[str]:
    wanted: set[str] = set()
    frontier = sorted(set(seeds))
    while frontier:
        wanted.update(frontier)
        found = direct_depends(frontier, pruned)
        frontier = sorted({dep for deps in found.values() for dep in deps} - wanted - pruned)
    return sorted(wanted)


def candidates(packages: list[str]) -> dict[str, str]:
    """Package → the .deb file name `apt-get download` saves its candidate version as."""
    out = run(["apt-cache", "show", "--no-all-versions", *packages])
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
        script = Path(sys.argv[0]).stem
        sys.stderr.write(f"{script}: downloading {len(missing)} packages to {cache}\n")
        # Into a scratch directory first, so an interrupted download leaves no partial .deb.
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            run(["apt-get", "download", *missing], cwd=Path(scratch))
            for deb in Path(scratch).glob("*.deb"):
                deb.replace(cache / deb.name)
    absent = sorted(name for name in files.values() if not (cache / name).is_file())
    if absent:
        raise ScriptError(f"apt-get download saved no {', '.join(absent)}", INSTALL_HINT)
    return [cache / files[p] for p in sorted(files)]


def unpack(debs: list[Path], root: Path, symlinks: Mapping[str, str]) -> None:
    """Unpack the packages into `root`, without their documentation (copyrights stay), with
    the `symlinks` (path → target) maintainer scripts or update-alternatives would make, and
    the directories every image has."""
    for deb in debs:
        run(["dpkg-deb", "-x", str(deb), str(root)])
    for dropped in DROPPED_DIRS:
        shutil.rmtree(root / dropped, ignore_errors=True)
    for path in (root / "usr/share/doc").rglob("*"):
        if path.is_file() and path.name != "copyright":
            path.unlink()
    for link, target in symlinks.items():
        path = root / link
        if not path.exists() and not path.is_symlink():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(target)
    for directory in ("root", "tmp", "var/tmp"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    (root / "tmp").chmod(0o1777)
    (root / "var/tmp").chmod(0o1777)


def layer_tar(root: Path, owners: Mapping[str, int] | None = None) -> bytes:
    """`root` as an uncompressed layer: sorted, every mtime 0, owned by root except the paths
    in `owners` (path → uid, which is also the gid)."""
    owned = dict(owners or {})

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime = 0
        info.uid = info.gid = owned.get(info.name, 0)
        info.uname = info.gname = "" if info.uid else "root"
        return info

    out = BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).parts):
            tar.add(path, arcname=str(path.relative_to(root)), recursive=False, filter=normalise)
    return out.getvalue()
