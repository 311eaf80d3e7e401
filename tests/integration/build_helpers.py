"""Helpers for the image build tests: the host's platform, the base image script, and
reading what a build wrote into an OCI layout."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from fargo.manifest.fargate import Platform

ROOT = Path(__file__).resolve().parents[2]
MAKE_BASE_IMAGE = ROOT / "scripts" / "make-base-image.py"
INSTALL_HINT = "install it with `apt-get install buildah busybox-static` (or `make system-deps`)"


def host_platform() -> Platform:
    """busybox-static is the host's build, so the base image is of the host's platform."""
    return "linux/arm64" if platform.machine() in {"aarch64", "arm64"} else "linux/amd64"


def make_base_layout(out_dir: Path) -> str:
    """Run the script as `make demo` would; returns its stdout (`DIR:TAG DIGEST`)."""
    result = subprocess.run(
        [sys.executable, str(MAKE_BASE_IMAGE), str(out_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"make-base-image.py failed:\n{result.stderr}\n{INSTALL_HINT}")
    return result.stdout


def read_blob(layout: Path, digest: str) -> bytes:
    data = (layout / "blobs" / digest.replace(":", "/", 1)).read_bytes()
    assert f"sha256:{hashlib.sha256(data).hexdigest()}" == digest
    return data


def read_json_blob(layout: Path, digest: str) -> Any:
    return json.loads(read_blob(layout, digest))


def image_files(layout: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
    """The image's regular files after applying every layer in order (no whiteouts here)."""
    files: dict[str, bytes] = {}
    for layer in manifest["layers"]:
        data = read_blob(layout, layer["digest"])
        if layer["mediaType"].endswith("gzip"):
            data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar:
                if member.isfile():
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    files[member.name.removeprefix("./")] = extracted.read()
    return files
