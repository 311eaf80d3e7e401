"""The app running on `--local`: one emulator with a container engine for the whole session.

Tests here inherit `tests/emulator`'s fixtures (a fresh account per test, `aws` clients), but
`emulator` is this one: it runs tasks, databases and caches as containers through a Docker
daemon or the Podman service fargo starts. The records-only session emulator stays for every
other emulator test, which is faster.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fargo import local
from fargo.local import engine as container_engine
from fargo.local.server import Emulator
from tests.integration.build_helpers import make_base_layout

ROOT = Path(__file__).resolve().parents[3]
PREPARE_DATA_IMAGES = ROOT / "scripts" / "prepare-data-images.py"
# Debian's python3.11 (scripts/make-python-base.py), named for what it is.
PYTHON_IMAGE = "localhost/fargo-python:3.11"


@pytest.fixture(scope="session")
def emulator_state_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG_STATE_HOME whose fargo emulator is this directory's: `--local` run with it
    finds the container emulator instead of starting one."""
    return tmp_path_factory.mktemp("runtime-home")


@pytest.fixture(scope="session")
def runtime_state(emulator_state_home: Path) -> Path:
    """The state dir of the session's container emulator (and of its Podman service)."""
    return emulator_state_home / "fargo" / "emulator"


@pytest.fixture(scope="session")
def emulator(runtime_state: Path) -> Iterator[Emulator]:
    if container_engine.find_docker() is None:
        for binary in ("podman", "runc"):
            if shutil.which(binary) is None:
                pytest.fail(f"{binary} is not installed: {container_engine.INSTALL_HINT}")
    started = local.start(state_dir=runtime_state, containers=True)
    assert started.docker_host is not None, "the emulator got no container engine"
    yield started
    local.stop(state_dir=runtime_state)


@pytest.fixture(scope="session")
def data_images(emulator: Emulator, runtime_state: Path) -> list[str]:
    """The local postgres and redis images, in the engine the emulator runs containers with:
    built from Debian packages under build/data-images (kept between runs) and loaded once,
    as `make demo` does, since no registry can be pulled from here."""
    result = subprocess.run(
        [sys.executable, str(PREPARE_DATA_IMAGES), str(runtime_state)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"prepare-data-images.py failed:\n{result.stderr}")
    return result.stdout.strip().removesuffix(" ready").split(", ")


@pytest.fixture(scope="session")
def busybox_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline busybox base (`sh`, `wget`, `grep`) as an OCI layout, for tasks to run."""
    layout = tmp_path_factory.mktemp("busybox") / "layout"
    make_base_layout(layout)
    return layout


@pytest.fixture(scope="session")
def emulator_endpoint(emulator: Emulator) -> str:
    """This directory's endpoint. Overridden here, not inherited: a session fixture keeps one
    value per definition, and the parent's would otherwise serve this emulator's endpoint to
    every records-only test that runs after these."""
    return emulator.endpoint_url


@pytest.fixture(scope="session")
def python_image(emulator: Emulator, runtime_state: Path) -> str:
    """The offline python base in the container engine's storage, for tasks that serve HTTP
    (`python3 -m http.server`) without network access. The layout is built once into
    build/python-base (its .debs stay in the user cache) and reused by later sessions. It
    has python3 and a shell, no coreutils."""
    layout = ROOT / "build" / "python-base"
    if not (layout / "index.json").is_file():
        built = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make-python-base.py"), str(layout), "--force"],
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            pytest.fail(f"make-python-base.py failed:\n{built.stderr}")
    if emulator.docker_host != f"unix://{runtime_state / 'podman.sock'}":
        pytest.skip("the emulator uses a Docker daemon: the image is loaded into fargo's Podman")
    env = container_engine.podman_env(runtime_state) | {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

    def podman(*argv: str) -> str:
        done = subprocess.run(
            ["podman", *argv], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    podman("tag", podman("pull", "--quiet", f"oci:{layout}:3.11"), PYTHON_IMAGE)
    return PYTHON_IMAGE
