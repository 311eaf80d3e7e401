"""Make the example's base image available to fargo's buildah without a registry.

`make demo` runs this, then deploys with FULLSTACK_BASE=localhost/fargo-python:3.11: the
Debian python3.11 root filesystem from scripts/make-python-base.py, imported into the
buildah storage `fargo deploy` builds with. Idempotent: an existing base is kept.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from fargo.images.builders import Buildah, default_buildah_storage

BASE = "localhost/fargo-python:3.11"
LAYOUT = Path("build/python-base")


def main() -> int:
    buildah = shutil.which("buildah")
    if buildah is None:
        print(
            "buildah is needed to build the example's image here: apt-get install buildah",
            file=sys.stderr,
        )
        return 1
    builder = Buildah(buildah, storage=default_buildah_storage())
    known = subprocess.run(
        [*builder.command("inspect", "--type", "image", BASE)],
        capture_output=True,
        check=False,
    )
    if known.returncode == 0:
        print(f"{BASE} is ready")
        return 0
    script = Path(__file__).with_name("make-python-base.py")
    subprocess.run([sys.executable, str(script), str(LAYOUT), "--force"], check=True)
    builder.import_layout(LAYOUT, BASE, tag="3.11")
    print(f"{BASE} is ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
