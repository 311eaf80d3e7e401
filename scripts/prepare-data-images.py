"""Make the local database and cache images available to the emulator's engine, offline.

    python scripts/prepare-data-images.py [STATE_DIR]

Builds `localhost/fargo-postgres:15` and `localhost/fargo-redis:7` from Debian packages
(scripts/make-data-image.py) as OCI layouts under build/data-images/, and loads them into
the container engine of the emulator whose state dir is STATE_DIR (fargo's default one when
left out): the Docker daemon, or the Podman service fargo started there (started now when the
emulator is not running yet). The emulator runs them where the official postgres and
valkey/redis images cannot be pulled, and says so. Idempotent and quick on reruns: a layout is
rebuilt only when the scripts that make it changed, and loaded only when the engine does not
hold that very image.
Run with fargo's python (it imports fargo).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from fargo.errors import FargoError
from fargo.local import data_images
from fargo.local import engine as container_engine
from fargo.local.server import default_state_dir

SCRIPTS = Path(__file__).resolve().parent
BUILD_DIR = SCRIPTS.parent / "build" / "data-images"
# Image name in make-data-image.py → the reference the engine holds it as.
REFERENCES = {"postgres": data_images.POSTGRES, "redis": data_images.REDIS}
# What a layout is made from: a change to any of these rebuilds it.
INPUTS = (
    "make-data-image.py",
    "debian_rootfs.py",
    "oci_layout.py",
    "data-images/postgres-entrypoint.sh",
    "data-images/redis-entrypoint.sh",
)
STAMP = "inputs.sha256"


def inputs_digest() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(name.encode() + b"\0" + (SCRIPTS / name).read_bytes())
    return digest.hexdigest()


def layout(name: str) -> Path:
    """The image's layout under build/, rebuilt when its inputs changed."""
    out = BUILD_DIR / name
    digest = inputs_digest()
    stamp = out / STAMP
    if stamp.is_file() and stamp.read_text() == digest:
        return out
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(SCRIPTS / "make-data-image.py"), name, str(out), "--force"],
        check=True,
    )
    stamp.write_text(digest)
    print(f"built {name} layout in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return out


def prepare(state_dir: Path) -> list[str]:
    """Build what is missing and load it; return the references the engine now holds."""
    engine = container_engine.start(state_dir)
    if engine is None:
        raise FargoError(
            "no container engine to load the local data images into",
            hint=container_engine.INSTALL_HINT,
        )
    for name, reference in REFERENCES.items():
        if data_images.load(engine.docker_host, layout(name), reference):
            print(f"loaded {reference} into {engine.docker_host}", file=sys.stderr)
    return list(REFERENCES.values())


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    state_dir = Path(args[0]) if args else default_state_dir()
    try:
        references = prepare(state_dir)
    except (FargoError, subprocess.CalledProcessError) as error:
        print(f"prepare-data-images: {error}", file=sys.stderr)
        return 1
    print(f"{', '.join(references)} ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
