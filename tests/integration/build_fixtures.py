"""Fixtures for image builds with a real buildah, offline.

No public registry is reachable where the suite runs, so the base image is made here:
`scripts/make-base-image.py` writes a busybox OCI layout from Debian's `busybox-static`,
and buildah imports it into the test's own storage under `localhost/fargo-base:latest`
(`buildah pull oci:DIR:latest`, then `buildah tag`). Dockerfiles say
`FROM localhost/fargo-base:latest` and are built with `--pull=never`, so a missing base is
an error rather than a registry lookup.

buildah 1.28 (Debian 12) also accepts `FROM oci:/path/to/layout:latest` directly in a
Dockerfile, but that is buildah's own transport syntax, which neither podman nor docker
reads; the import keeps the Dockerfiles plain.

buildah is required, never skipped: without it these fixtures fail with the install line.
Its storage (vfs) lives in a session temporary directory, never in the machine's
containers storage or fargo's cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fargo.images.builders import Buildah
from tests.integration.build_helpers import INSTALL_HINT, make_base_layout

BASE_IMAGE = "localhost/fargo-base:latest"


@pytest.fixture(scope="session")
def buildah_executable() -> str:
    found = shutil.which("buildah")
    if found is None:
        pytest.fail(f"buildah is not installed; image build tests need it: {INSTALL_HINT}")
    return found


@pytest.fixture(scope="session")
def buildah(buildah_executable: str, tmp_path_factory: pytest.TempPathFactory) -> Buildah:
    return Buildah(buildah_executable, storage=tmp_path_factory.mktemp("buildah-storage"))


@pytest.fixture(scope="session")
def base_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("base") / "layout"
    make_base_layout(out)
    return out


@pytest.fixture(scope="session")
def base_image(buildah: Buildah, base_layout: Path) -> str:
    """The busybox base, imported into the test storage; use it as `FROM <this>`."""
    buildah.import_layout(base_layout, BASE_IMAGE)
    return BASE_IMAGE
