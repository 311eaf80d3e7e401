"""A real registry (Debian's docker-registry) per test session, skopeo as the independent
client that reads back what fargo pushed, and OCI layouts written on the fly."""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fargo.errors import FargoError
from fargo.images.local_registry import INSTALL_HINT, LocalRegistry, start_registry

_names = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def require(binary: str, hint: str = INSTALL_HINT) -> str:
    """The binary's path; a failure (never a skip) when it is missing."""
    found = shutil.which(binary)
    if found is None:
        pytest.fail(f"{binary} is not installed\n  hint: {hint}", pytrace=False)
    return found


def started_registry(workdir: Path, auth: dict[str, object] | None = None) -> LocalRegistry:
    try:
        return start_registry(workdir, auth=auth)
    except FargoError as error:
        pytest.fail(error.render(), pytrace=False)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    started = started_registry(tmp_path_factory.mktemp("registry"))
    yield started
    started.stop()


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    """A repository name no other test uses, after the test's name."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60]
    return f"{name}-{next(_names)}"


class Skopeo:
    """skopeo, the independent client: what it reads is what any puller would see."""

    def __init__(self) -> None:
        self.binary = require("skopeo")

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([self.binary, *args], capture_output=True, check=False, timeout=120)

    def raw(self, reference: str) -> bytes:
        done = self.run("inspect", "--raw", "--tls-verify=false", f"docker://{reference}")
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    def raw_digest(self, reference: str) -> str:
        return "sha256:" + hashlib.sha256(self.raw(reference)).hexdigest()

    def digest(self, reference: str) -> str:
        done = self.run(
            "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{reference}"
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode().strip()

    def exists(self, reference: str) -> bool:
        return (
            self.run("inspect", "--raw", "--tls-verify=false", f"docker://{reference}").returncode
            == 0
        )


@pytest.fixture(scope="session")
def skopeo() -> Skopeo:
    return Skopeo()


@pytest.fixture
def layout_dir(tmp_path: Path) -> Callable[[str], Path]:
    """A fresh directory for a layout, by name, under the test's tmp_path."""

    def make(name: str) -> Path:
        return tmp_path / name

    return make
