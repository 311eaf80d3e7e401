#!/usr/bin/env python3
"""Write the local runtime's database or cache image as an OCI image layout, offline.

    python3 scripts/make-data-image.py {postgres,redis} OUT_DIR [--force] [--cache-dir DIR]

Where no public registry is reachable (fargo's tests, `make demo`, CI), the emulator cannot
pull the official `postgres` and `valkey`/`redis` images its RDS and ElastiCache containers
run. Debian's apt repositories are reachable, so this assembles equivalents from Debian 12's
packages (scripts/debian_rootfs.py), named for what they hold:

- `postgres`: PostgreSQL 15 (postgresql-15, its client for psql and pg_isready), with the
  official image's entrypoint contract (scripts/data-images/postgres-entrypoint.sh):
  POSTGRES_USER/PASSWORD/DB, PGDATA=/var/lib/postgresql/data, password authentication for
  host connections, listening on all addresses, running as the postgres user. The LLVM JIT is
  left out (PostgreSQL then runs without JIT, as a build without LLVM does).
- `redis`: Redis 7.0 (redis-server and redis-cli, built with TLS), with the official image's
  entrypoint contract (scripts/data-images/redis-entrypoint.sh): flags mean `redis-server`,
  /data owned by the redis user, protected mode off.

Both have `sh` (dash), coreutils and gosu, which the emulator's start-up wrappers use. The
.debs are cached in the user cache, so a rerun downloads nothing; the same package versions
give the same digest. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import debian_rootfs
import oci_layout
from oci_layout import PATH_ENV

ENTRYPOINTS = Path(__file__).with_name("data-images")
ENTRYPOINT = "usr/local/bin/docker-entrypoint.sh"
# What both images' start-up scripts run: sh, id/chown/stat/sleep/cat, and dropping to the
# service's user as the official images do.
COMMON_SEEDS = ("dash", "coreutils", "gosu")
# The official images' service users (uid = gid = 999).
SERVICE_UID = 999


@dataclass(frozen=True)
class DataImage:
    name: str
    tag: str
    user: str
    home: str
    seeds: tuple[str, ...]
    # Dependencies the image does without (beyond maintainer-script-only ones).
    pruned: frozenset[str]
    # Files removed after unpacking: what would need a pruned package.
    dropped: tuple[str, ...]
    # Directories made and owned by the service user.
    owned_dirs: tuple[str, ...]
    config: dict[str, object]
    description: str


PG_BIN = "/usr/lib/postgresql/15/bin"
IMAGES = {
    "postgres": DataImage(
        name="postgres",
        tag="15",
        user="postgres",
        home="/var/lib/postgresql",
        # libc-bin has glibc's C.UTF-8 locale, which initdb takes from LANG.
        seeds=("postgresql-15", "postgresql-client-15", "tzdata", "libc-bin"),
        pruned=frozenset(
            {
                # Debian's cluster tooling (pg_createcluster, pg_wrapper) is perl; the image
                # runs the server's own binaries.
                "postgresql-common",
                "postgresql-client-common",
                "ssl-cert",
                # C.UTF-8 comes with libc-bin; the official image's en_US locale is not needed.
                "locales",
                "locales-all",
                # Only llvmjit.so links LLVM (about 100 MB); without it JIT is off.
                "libllvm14",
            }
        ),
        dropped=("usr/lib/postgresql/15/lib/llvmjit.so", "usr/lib/postgresql/15/lib/bitcode"),
        owned_dirs=(
            "var/lib/postgresql",
            "var/lib/postgresql/data",
            "var/run/postgresql",
            "docker-entrypoint-initdb.d",
        ),
        config={
            "Env": [
                PATH_ENV.replace("PATH=", f"PATH={PG_BIN}:"),
                "LANG=C.UTF-8",
                "PG_MAJOR=15",
                "PGDATA=/var/lib/postgresql/data",
            ],
            "Entrypoint": ["docker-entrypoint.sh"],
            "Cmd": ["postgres"],
            "ExposedPorts": {"5432/tcp": {}},
            "StopSignal": "SIGINT",
            "Volumes": {"/var/lib/postgresql/data": {}},
            "WorkingDir": "/",
        },
        description="PostgreSQL 15 from Debian's postgresql-15",
    ),
    "redis": DataImage(
        name="redis",
        tag="7",
        user="redis",
        home="/data",
        seeds=("redis-server", "redis-tools"),
        pruned=frozenset({"adduser", "init-system-helpers", "lsb-base", "sysvinit-utils"}),
        dropped=("etc/init.d", "etc/logrotate.d", "lib/systemd"),
        owned_dirs=("data",),
        config={
            "Env": [PATH_ENV],
            "Entrypoint": ["docker-entrypoint.sh"],
            "Cmd": ["redis-server"],
            "ExposedPorts": {"6379/tcp": {}},
            "Volumes": {"/data": {}},
            "WorkingDir": "/data",
        },
        description="Redis 7 from Debian's redis-server",
    ),
}


def assemble(image: DataImage, debs: list[Path], root: Path) -> dict[str, int]:
    """Unpack the packages into `root`, add the entrypoint and users; return the owners."""
    debian_rootfs.unpack(debs, root, {"bin/sh": "dash"})
    for dropped in image.dropped:
        path = root / dropped
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    entrypoint = root / ENTRYPOINT
    entrypoint.parent.mkdir(parents=True, exist_ok=True)
    entrypoint.write_bytes((ENTRYPOINTS / f"{image.name}-entrypoint.sh").read_bytes())
    entrypoint.chmod(0o755)
    uid = SERVICE_UID
    (root / "etc/passwd").write_text(
        oci_layout.USERS + f"{image.user}:x:{uid}:{uid}::{image.home}:/bin/sh\n"
    )
    (root / "etc/group").write_text(oci_layout.GROUPS + f"{image.user}:x:{uid}:\n")
    for directory in image.owned_dirs:
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory).chmod(0o755)
    return dict.fromkeys(image.owned_dirs, uid)


def write_layout(image: DataImage, out_dir: Path, cache: Path) -> str:
    """Write the layout and return its manifest digest."""
    pruned = debian_rootfs.MAINTAINER_ONLY | image.pruned
    debs = debian_rootfs.fetch(debian_rootfs.resolve((*COMMON_SEEDS, *image.seeds), pruned), cache)
    with tempfile.TemporaryDirectory(prefix=f"fargo-{image.name}-image-") as scratch:
        root = Path(scratch) / "rootfs"
        root.mkdir()
        owners = assemble(image, debs, root)
        tar = debian_rootfs.layer_tar(root, owners)
    return oci_layout.write_layout(
        out_dir,
        image.tag,
        tar,
        config=image.config,
        created_by=f"fargo make-data-image: {image.description}, {len(debs)} Debian packages",
        compresslevel=6,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", choices=sorted(IMAGES), help="which image to write")
    parser.add_argument("out_dir", type=Path, help="directory to write the OCI layout into")
    parser.add_argument("--force", action="store_true", help="replace OUT_DIR if it exists")
    debian_rootfs.add_cache_dir_option(parser)
    args = parser.parse_args(argv)
    image = IMAGES[args.image]
    return oci_layout.write_and_report(
        "make-data-image",
        args.out_dir,
        image.tag,
        lambda: write_layout(image, args.out_dir, args.cache_dir),
        force=args.force,
    )


if __name__ == "__main__":
    sys.exit(main())
