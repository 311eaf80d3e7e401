"""`make demo`: deploy examples/fullstack to the embedded emulator and show what it made.

With buildah on this machine, fargo builds the example's Dockerfile on an offline Debian
python base (scripts/prepare-demo-base.py). Without it, the example's image is assembled as
an OCI layout by scripts/make-example-layout.py and deployed with `image: { layout }` from a
copy of the manifest under build/demo, so the demo also runs where no container engine is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fullstack" / "fargo.yml"
BASE = "localhost/fargo-python:3.11"
DEMO_DIR = ROOT / "build" / "demo"
LAYOUT = ROOT / "build" / "example-layout"
FARGO = Path(sys.executable).with_name("fargo")


def manifest_with_buildah() -> tuple[Path, dict[str, str]]:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "prepare-demo-base.py")], check=True)
    # The base is in buildah's storage: auto-detection could pick podman or docker instead.
    return EXAMPLE, {"FULLSTACK_BASE": BASE, "FULLSTACK_BUILDER": "buildah"}


def manifest_with_layout() -> tuple[Path, dict[str, str]]:
    print("buildah is not installed: assembling the example's image as an OCI layout")
    if not (LAYOUT / "index.json").is_file():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make-example-layout.py"), str(LAYOUT)],
            check=True,
        )
    manifest = yaml.safe_load(EXAMPLE.read_text())
    builders = [n for n, s in manifest["services"].items() if "build" in (s.get("image") or {})]
    for name in builders:
        manifest["services"][name]["image"] = {"layout": os.path.relpath(LAYOUT, DEMO_DIR)}
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    copy = DEMO_DIR / "fargo.yml"
    copy.write_text(
        "# Written by scripts/demo.py: examples/fullstack/fargo.yml with the image from an\n"
        "# OCI layout, for machines without buildah.\n" + yaml.safe_dump(manifest, sort_keys=False)
    )
    return copy, {}


def main() -> int:
    manifest, extra = manifest_with_buildah() if shutil.which("buildah") else manifest_with_layout()
    env = {**os.environ, **extra}
    for command in (
        ["deploy", "-f", str(manifest), "--local"],
        ["status", "-f", str(manifest), "--local", "--resources"],
    ):
        result = subprocess.run([str(FARGO), *command], env=env, check=False)
        if result.returncode != 0:
            return result.returncode
    print(f"The emulator keeps running for you to explore; stop it with: {FARGO} local stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
