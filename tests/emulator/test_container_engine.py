"""The emulator's container engine: with `containers=True`, fargo starts a Podman API service
(configured by its own files, not /etc) when no Docker daemon answers, hands it to the
emulator as DOCKER_HOST, and stops it with the emulator. A real container runs through it.

This starts an emulator of its own: the session emulator stays records-only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fargo import local
from fargo.local import engine as container_engine
from fargo.local.server import Emulator
from tests.integration.build_helpers import make_base_layout

IMAGE = "localhost/fargo-base:latest"


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-state")


@pytest.fixture(scope="module")
def running(state_dir: Path) -> Iterator[Emulator]:
    for binary in ("podman", "runc"):
        if shutil.which(binary) is None:
            pytest.fail(f"{binary} is not installed: {container_engine.INSTALL_HINT}")
    if container_engine.find_docker() is not None:
        pytest.skip("a Docker daemon runs here: fargo uses it and starts no Podman service")
    emulator = local.start(state_dir=state_dir, containers=True)
    try:
        yield emulator
    finally:
        local.stop(state_dir=state_dir)


def api(docker_host: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.HTTPTransport(uds=docker_host.removeprefix("unix://")),
        base_url="http://engine",
        timeout=60,
    )


def test_the_emulator_gets_fargos_podman_service(running: Emulator, state_dir: Path) -> None:
    assert running.docker_host == f"unix://{state_dir / 'podman.sock'}"
    environ = Path(f"/proc/{running.pid}/environ").read_bytes().split(b"\0")
    assert f"DOCKER_HOST={running.docker_host}".encode() in environ
    with api(running.docker_host) as client:
        info = client.get("/info").json()
    # fargo's configuration, not the machine's: runc, cgroupfs, vfs under the state dir.
    assert info["DefaultRuntime"] == "runc"
    assert info["Driver"] == "vfs"
    assert info["DockerRootDir"] == str(state_dir / "podman" / "root")
    assert local.status(state_dir=state_dir) == running


def test_a_container_runs_to_completion(running: Emulator, state_dir: Path, tmp_path: Path) -> None:
    assert running.docker_host is not None
    layout = tmp_path / "base"
    make_base_layout(layout)
    loaded = subprocess.run(
        ["podman", "pull", "--quiet", f"oci:{layout}:latest"],
        env=container_engine.podman_env(state_dir) | {"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    image_id = loaded.stdout.strip()
    with api(running.docker_host) as client:
        created = client.post(
            "/containers/create",
            json={"Image": image_id, "Cmd": ["sh", "-c", "echo hello from $(hostname); exit 3"]},
        )
        assert created.status_code == 201, created.text
        container = created.json()["Id"]
        try:
            assert client.post(f"/containers/{container}/start").status_code == 204
            waited = client.post(f"/containers/{container}/wait").json()
            logs = client.get(f"/containers/{container}/logs", params={"stdout": 1}).content
            inspected = client.get(f"/containers/{container}/json").json()
        finally:
            client.delete(f"/containers/{container}", params={"force": 1})
    assert waited["StatusCode"] == 3
    assert b"hello from " + inspected["Config"]["Hostname"].encode() in logs
    assert inspected["State"]["ExitCode"] == 3


def test_stop_ends_the_podman_service(state_dir: Path, running: Emulator) -> None:
    assert running.docker_host is not None
    engine_state = json.loads((state_dir / "engine.json").read_text())
    local.stop(state_dir=state_dir)
    assert not container_engine.ping(running.docker_host)
    assert not Path(f"/proc/{engine_state['pid']}").exists()
    assert local.status(state_dir=state_dir) is None


def test_without_an_engine_the_emulator_keeps_records_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither podman nor runc
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")
    assert container_engine.start(tmp_path) is None
