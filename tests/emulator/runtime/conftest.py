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

PREPARE_DATA_IMAGES = Path(__file__).parents[3] / "scripts" / "prepare-data-images.py"


@pytest.fixture(scope="session")
def state_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG_STATE_HOME under which `fargo ... --local` finds the session's emulator."""
    return tmp_path_factory.mktemp("state-home")


@pytest.fixture(scope="session")
def runtime_state(state_home: Path) -> Path:
    """The state dir of the session's container emulator (and of its Podman service): the
    one `fargo` run with XDG_STATE_HOME=`state_home` uses (platformdirs' user state dir)."""
    return state_home / "fargo" / "emulator"


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
