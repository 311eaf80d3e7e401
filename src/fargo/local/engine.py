"""The container engine the emulator runs tasks, databases and caches with.

A Docker daemon is used when one answers. Otherwise fargo starts a Podman API service
(`podman system service`, which speaks the Docker API) on a socket in the emulator's state
dir, configured by fargo's own files (`podman/*.conf`, passed through the CONTAINERS_*
variables) so that nothing in /etc changes, and stops it with the emulator. Without either,
the emulator keeps records only.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, Literal

from fargo.errors import FargoError
from fargo.local.processes import alive, spawn, terminate

CONFIG_DIR: Final = Path(__file__).with_name("podman")
DOCKER_SOCKET: Final = Path("/var/run/docker.sock")
INSTALL_HINT: Final = (
    "start a Docker daemon, or install Podman and runc (Debian/Ubuntu: "
    "`apt-get install podman runc`)"
)
_START_TIMEOUT_SECONDS = 30.0
_STATE_FILE = "engine.json"

EngineKind = Literal["docker", "podman"]


@dataclass(frozen=True)
class Engine:
    kind: EngineKind
    docker_host: str
    # The Podman service fargo started; None for a Docker daemon fargo does not own.
    pid: int | None = None
    log: str | None = None


def podman_env(state_dir: Path) -> dict[str, str]:
    """The variables that point Podman at fargo's configuration and storage under
    `state_dir`; the same for the API service and for a `podman` command run beside it."""
    storage = state_dir / "podman"
    storage_conf = storage / "storage.conf"
    if not storage_conf.exists():
        storage.mkdir(parents=True, exist_ok=True)
        # The run root holds conmon's per-container sockets, whose paths must stay under the
        # 108 bytes of a unix socket address: under a deep state dir, containers run but
        # their exit is never seen. A short directory named after the state dir keeps it.
        digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
        runroot = Path(tempfile.gettempdir()) / f"fargo-podman-{digest}"
        # vfs needs no kernel overlay support nor fuse; its own root keeps fargo's images
        # apart from the user's.
        storage_conf.write_text(
            "[storage]\n"
            'driver = "vfs"\n'
            f"graphroot = {json.dumps(str(storage / 'root'))}\n"
            f"runroot = {json.dumps(str(runroot))}\n"
        )
    # fargo's settings, plus the network configuration kept in the state dir (Podman's
    # default is /etc/cni/net.d): each emulator's network stays its own.
    containers_conf = storage / "containers.conf"
    settings = (CONFIG_DIR / "containers.conf").read_text() + (
        f"\n[network]\nnetwork_config_dir = {json.dumps(str(storage / 'networks'))}\n"
    )
    if not containers_conf.exists() or containers_conf.read_text() != settings:
        containers_conf.write_text(settings)
    (storage / "networks").mkdir(exist_ok=True)
    return {
        "CONTAINERS_CONF": str(containers_conf),
        "CONTAINERS_REGISTRIES_CONF": str(CONFIG_DIR / "registries.conf"),
        "CONTAINERS_STORAGE_CONF": str(storage_conf),
    }


def ping(docker_host: str, timeout: float = 1.0) -> bool:
    """Whether a Docker-API engine answers `GET /_ping` at `docker_host`."""
    try:
        status, _ = call(docker_host, "GET", "/_ping", timeout=timeout)
    except OSError:
        return False
    return status == 200


def call(
    docker_host: str, method: str, path: str, body: object = None, *, timeout: float = 30.0
) -> tuple[int, Any]:
    """One Docker API request: the status and the JSON answer (or its text)."""
    connection = connection_to(docker_host, timeout)
    if connection is None:
        raise OSError(f"unsupported DOCKER_HOST {docker_host}")
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read().decode(errors="replace")
    finally:
        connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data


def connection_to(docker_host: str, timeout: float) -> http.client.HTTPConnection | None:
    """An HTTP connection to the Docker API at `docker_host`; None for a scheme it has not."""
    if docker_host.startswith("unix://"):
        return _UnixConnection(docker_host.removeprefix("unix://"), timeout)
    if docker_host.startswith("tcp://"):
        host, _, port = docker_host.removeprefix("tcp://").partition(":")
        return http.client.HTTPConnection(host, int(port or 2375), timeout=timeout)
    return None


def find_docker() -> Engine | None:
    """A Docker daemon that answers: DOCKER_HOST's, else the default socket's."""
    host = os.environ.get("DOCKER_HOST") or f"unix://{DOCKER_SOCKET}"
    return Engine("docker", host) if ping(host) else None


def start(state_dir: Path) -> Engine | None:
    """A running engine for the emulator: Docker's, the Podman service already started in
    `state_dir`, or a new one. None when neither Docker nor Podman is usable here."""
    recorded = status(state_dir)
    if recorded is not None:
        return recorded
    docker = find_docker()
    if docker is not None:
        return docker
    podman = shutil.which("podman")
    if podman is None or shutil.which("runc") is None:
        return None
    return _start_podman(podman, state_dir)


def status(state_dir: Path) -> Engine | None:
    """The Podman service recorded in `state_dir`, if it still answers."""
    try:
        engine = Engine(**json.loads((state_dir / _STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if engine.pid is not None and alive(engine.pid) and ping(engine.docker_host):
        return engine
    return None


def stop(state_dir: Path) -> Engine | None:
    """Stop the Podman service fargo started in `state_dir`, and its containers with it."""
    state = state_dir / _STATE_FILE
    try:
        engine = Engine(**json.loads(state.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if engine.pid is not None:
        # Containers outlive the API service (conmon keeps each one): without this, the
        # tasks, databases and caches would run on, unreachable, after `local stop`.
        _remove_containers(state_dir)
        terminate(engine.pid)
    state.unlink(missing_ok=True)
    return engine


def _remove_containers(state_dir: Path) -> None:
    podman = shutil.which("podman")
    if podman is None:
        return
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(
            [podman, "rm", "--force", "--all", "--time", "5"],
            env={**os.environ, **podman_env(state_dir)},
            capture_output=True,
            check=False,
            timeout=120,
        )


def _start_podman(podman: str, state_dir: Path) -> Engine:
    state_dir.mkdir(parents=True, exist_ok=True)
    sock = state_dir / "podman.sock"
    sock.unlink(missing_ok=True)
    log = state_dir / "podman.log"
    env = {**os.environ, **podman_env(state_dir)}
    # --time=0: the service stays up until fargo stops it, not 5 s after its last call.
    argv = [podman, "system", "service", "--time=0", f"unix://{sock}"]
    process = spawn(argv, log, env)
    engine = Engine("podman", f"unix://{sock}", process.pid, str(log))
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while not ping(engine.docker_host, timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            terminate(process.pid)
            raise FargoError(
                "the Podman API service did not start:\n" + log.read_text(errors="replace")[-2000:],
                hint=f"full log: {log}; {INSTALL_HINT}",
            )
        time.sleep(0.1)
    (state_dir / _STATE_FILE).write_text(json.dumps(asdict(engine)))
    return engine


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the engine's unix socket, with only the standard library."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock
