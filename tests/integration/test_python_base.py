"""The python base made from Debian packages, and the example app's real image built on it.

`scripts/make-python-base.py` writes a Debian 12 python3.11 image as an OCI layout from
.debs (cached in ~/.cache/fargo/debs, so only the first run downloads); buildah imports it
into the test storage as `localhost/fargo-python:3.11`, and the example's own Dockerfile is
built with `--build-arg BASE=localhost/fargo-python:3.11`. Its `pip install` reaches PyPI
from the RUN step: chroot isolation shares the host's network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fargo.images.build import BuildRequest, BuiltImage
from fargo.images.builders import Buildah
from tests.integration.build_helpers import ROOT, host_platform, image_files, read_json_blob

pytest_plugins = ["tests.integration.build_fixtures"]

pytestmark = pytest.mark.integration

MAKE_PYTHON_BASE = ROOT / "scripts" / "make-python-base.py"
PYTHON_IMAGE = "localhost/fargo-python:3.11"
EXAMPLE = ROOT / "examples" / "fullstack"
SITE_PACKAGES = "usr/local/lib/python3.11/dist-packages"


@pytest.fixture(scope="session")
def python_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("python-base") / "layout"
    result = subprocess.run(
        [sys.executable, str(MAKE_PYTHON_BASE), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"make-python-base.py failed:\n{result.stderr}")
    assert result.stdout.startswith(f"{out}:3.11 sha256:")
    return out


@pytest.fixture(scope="session")
def python_image(buildah: Buildah, python_layout: Path) -> str:
    buildah.import_layout(python_layout, PYTHON_IMAGE, tag="3.11")
    return PYTHON_IMAGE


@pytest.fixture(scope="session")
def example_request(tmp_path_factory: pytest.TempPathFactory) -> BuildRequest:
    return BuildRequest(
        name="fullstack",
        context=EXAMPLE,
        layout=tmp_path_factory.mktemp("fullstack") / "layout",
        build_args={"BASE": PYTHON_IMAGE},
        platform=host_platform(),
        pull="never",
    )


@pytest.fixture(scope="session")
def example_image(buildah: Buildah, python_image: str, example_request: BuildRequest) -> BuiltImage:
    return buildah.build(example_request)


def run_in(buildah: Buildah, image: str, *command: str) -> str:
    """`command`'s stdout in a working container of `image`, which is removed afterwards."""
    container = subprocess.run(
        buildah.command("from", "--pull=never", "--quiet", image),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        result = subprocess.run(
            buildah.command("run", "--isolation", "chroot", container, "--", *command),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        subprocess.run(buildah.command("rm", container), capture_output=True, check=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def _no_leftover_containers(buildah: Buildah) -> Iterator[None]:
    yield
    listed = subprocess.run(
        buildah.command("containers", "--quiet"), capture_output=True, text=True, check=True
    )
    assert listed.stdout.strip() == ""


def test_same_packages_give_the_same_digest(python_layout: Path, tmp_path: Path) -> None:
    again = subprocess.run(
        [sys.executable, str(MAKE_PYTHON_BASE), str(tmp_path / "again")],
        capture_output=True,
        text=True,
        check=True,
    )
    first = (python_layout / "index.json").read_bytes()
    assert (tmp_path / "again" / "index.json").read_bytes() == first
    assert again.stdout.split()[-1] in first.decode()


@pytest.mark.usefixtures("_no_leftover_containers")
def test_python_base_runs_python_and_pip(buildah: Buildah, python_image: str) -> None:
    imports = "import ssl, sqlite3, ctypes, json, zlib, lzma, bz2, uuid; print('ok')"
    assert run_in(buildah, python_image, "python3", "-c", imports) == "ok\n"
    assert run_in(buildah, python_image, "python3", "-m", "pip", "--version").startswith("pip ")
    # The stdlib's default TLS context finds the CA bundle (pip alone reads it directly).
    fetch = "import urllib.request as u; print(u.urlopen('https://pypi.org/simple/pip/').status)"
    assert run_in(buildah, python_image, "python3", "-c", fetch) == "200\n"


@pytest.mark.usefixtures("_no_leftover_containers")
def test_example_image_builds_offline_and_imports_the_app(
    buildah: Buildah, example_image: BuiltImage, example_request: BuildRequest
) -> None:
    manifest = read_json_blob(example_image.layout, example_image.digest)
    files = image_files(example_image.layout, manifest)
    assert "srv/app/main.py" in files
    assert f"{SITE_PACKAGES}/fastapi/__init__.py" in files
    config = read_json_blob(example_image.layout, manifest["config"]["digest"])
    assert config["config"]["User"] == "10001:10001"
    assert config["config"]["Cmd"][0] == "uvicorn"

    title = run_in(
        buildah,
        example_request.local_name,
        "python",
        "-c",
        "import app.main, app.worker, app.nightly; print(app.main.app.title)",
    )
    assert title == "fargo fullstack example\n"
    assert run_in(buildah, example_request.local_name, "sh", "-c", "command -v uvicorn") == (
        "/usr/local/bin/uvicorn\n"
    )


@pytest.mark.usefixtures("_no_leftover_containers")
def test_example_layout_made_without_an_engine_runs_the_app(
    buildah: Buildah, tmp_path: Path
) -> None:
    """`make demo` deploys this layout where buildah is missing: the Dockerfile's steps done
    by scripts/make-example-layout.py, with pip resolving for the image's python 3.11.2."""
    layout = tmp_path / "example"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-example-layout.py"), str(layout)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"]
    assert result.stdout.strip() == f"{layout}: {digest}"
    manifest = read_json_blob(layout, digest)
    files = image_files(layout, manifest)
    assert "srv/app/main.py" in files
    # redis needs async-timeout below python 3.11.3: a marker pip evaluated for the image.
    assert f"{SITE_PACKAGES}/async_timeout/__init__.py" in files
    assert not any(name.startswith(f"{SITE_PACKAGES}/bin/") for name in files)
    config = read_json_blob(layout, manifest["config"]["digest"])["config"]
    assert config["User"] == "10001:10001"
    assert config["Cmd"][:3] == ["python3", "-m", "uvicorn"]

    image = "localhost/fargo-example-layout:latest"
    buildah.import_layout(layout, image, tag="latest")
    imports = "import app.main, app.worker, app.nightly, uvicorn; print(app.main.app.title)"
    assert run_in(buildah, image, "python3", "-c", imports) == "fargo fullstack example\n"
