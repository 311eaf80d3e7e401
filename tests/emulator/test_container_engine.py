"""The emulator's container engine: with `containers=True`, fargo starts a Podman API service
(configured by its own files, not /etc) when no Docker daemon answers, hands it to the
emulator as DOCKER_HOST, and stops it with the emulator. A real container runs through it.

This starts an emulator of its own: the session emulator stays records-only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
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


@pytest.fixture(scope="module")
def base_image(running: Emulator, state_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The offline busybox base, loaded into fargo's Podman storage as IMAGE."""
    del running
    layout = tmp_path_factory.mktemp("base") / "layout"
    make_base_layout(layout)
    env = container_engine.podman_env(state_dir) | {"PATH": "/usr/bin:/bin"}

    def podman(*argv: str) -> str:
        done = subprocess.run(
            ["podman", *argv], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    podman("tag", podman("pull", "--quiet", f"oci:{layout}:latest"), IMAGE)
    return IMAGE


def test_a_container_runs_to_completion(running: Emulator, base_image: str) -> None:
    assert running.docker_host is not None
    with api(running.docker_host) as client:
        created = client.post(
            "/containers/create",
            json={"Image": base_image, "Cmd": ["sh", "-c", "echo hello from $(hostname); exit 3"]},
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


def test_a_one_off_task_reports_its_exit_code(
    running: Emulator, base_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ECS RunTask runs the container to completion and reports, as ECS does, the essential
    container's exit code and `EssentialContainerExited`."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "000000000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    ecs = boto3.client("ecs", endpoint_url=running.endpoint_url, region_name="us-east-1")
    ecs.create_cluster(clusterName="one-off")
    ecs.register_task_definition(
        family="one-off",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "main", "image": base_image, "command": ["sh", "-c", "exit 3"]}
        ],
    )
    (task,) = ecs.run_task(
        cluster="one-off",
        taskDefinition="one-off",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    )["tasks"]
    deadline = time.monotonic() + 60
    while True:
        (stopped,) = ecs.describe_tasks(cluster="one-off", tasks=[task["taskArn"]])["tasks"]
        if stopped["lastStatus"] == "STOPPED" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert [c["exitCode"] for c in stopped["containers"]] == [3]


def test_stop_ends_the_podman_service_and_its_containers(
    state_dir: Path, running: Emulator, base_image: str
) -> None:
    assert running.docker_host is not None
    with api(running.docker_host) as client:
        created = client.post(
            "/containers/create", json={"Image": base_image, "Cmd": ["sleep", "600"]}
        )
        assert created.status_code == 201, created.text
        container = created.json()["Id"]
        assert client.post(f"/containers/{container}/start").status_code == 204
        pid = client.get(f"/containers/{container}/json").json()["State"]["Pid"]
    assert Path(f"/proc/{pid}").exists()
    engine_state = json.loads((state_dir / "engine.json").read_text())
    local.stop(state_dir=state_dir)
    assert not container_engine.ping(running.docker_host)
    assert not Path(f"/proc/{engine_state['pid']}").exists()
    # A container would otherwise run on, unreachable, after its engine is gone.
    assert not Path(f"/proc/{pid}").exists()
    assert local.status(state_dir=state_dir) is None


def test_without_an_engine_the_emulator_keeps_records_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither podman nor runc
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'none.sock'}")
    assert container_engine.start(tmp_path) is None
