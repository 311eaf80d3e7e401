"""Start, find and stop the embedded emulator: ministack in its own venv, patched by
`launcher.py`, on 127.0.0.1 and a free port, with the container engine of `engine.py` when
asked to run containers."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from fargo.errors import FargoError
from fargo.local import data_images
from fargo.local import engine as container_engine
from fargo.local import network as container_network
from fargo.local.processes import alive, spawn, terminate
from fargo.local.venv import ensure_venv

LAUNCHER = Path(__file__).with_name("launcher.py")
HEALTH_PATH = "/_ministack/health"
_START_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Emulator:
    pid: int
    port: int
    log: str
    # The Docker API the emulator runs containers through; None: it keeps records only.
    docker_host: str | None = None
    # The engine network its containers join, and the emulator's address on it.
    network: str | None = None
    gateway: str | None = None
    # Which engine answers there: "docker" or "podman" (None: records only).
    engine: str | None = None
    # Whether containers were asked for: records only with this True means no engine was
    # found when the emulator started (what `--local` says once, and `status` notes).
    containers_wanted: bool = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def default_state_dir() -> Path:
    return Path(platformdirs.user_state_dir("fargo")) / "emulator"


def healthy(endpoint_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(endpoint_url + HEALTH_PATH, timeout=timeout) as response:  # noqa: S310 - loopback URL built here
            return bool(response.status == 200)
    except OSError:
        return False


def status(state_dir: Path | None = None) -> Emulator | None:
    """The running emulator recorded in `state_dir`, if it is alive and healthy."""
    state = (state_dir or default_state_dir()) / "emulator.json"
    try:
        emulator = Emulator(**json.loads(state.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if alive(emulator.pid) and healthy(emulator.endpoint_url):
        return emulator
    return None


def start(
    port: int | None = None,
    *,
    state_dir: Path | None = None,
    cache_dir: Path | None = None,
    containers: bool = False,
) -> Emulator:
    """Start the emulator in the background, or return the one already running.

    With `containers`, it runs tasks, databases and caches through a Docker daemon or a
    Podman service fargo starts (`engine.py`); without one, or without `containers`, it
    keeps records only and `docker_host` is None. Records only is this function's default,
    so library callers and the test suite stay fast; the CLI's default is containers
    whenever an engine is available (`fargo.local.containers`).
    """
    state_dir = state_dir or default_state_dir()
    running = status(state_dir)
    if running is not None and (port is None or running.port == port):
        return running
    if running is not None:
        raise FargoError(
            f"the emulator already runs on port {running.port}",
            hint="run `fargo local stop` first to move it to another port",
        )
    python = ensure_venv(cache_dir)
    port = port or free_port()
    state_dir.mkdir(parents=True, exist_ok=True)
    scratch = state_dir / f"tmp-{port}"
    scratch.mkdir(exist_ok=True)
    log = state_dir / f"emulator-{port}.log"
    engine = container_engine.start(state_dir) if containers else None
    (state_dir / data_images.SUBSTITUTIONS_FILE).unlink(missing_ok=True)
    network = container_network.ensure(engine.docker_host, state_dir) if engine else None
    # A DOCKER_HOST that never answers keeps a records-only emulator from running containers
    # on a Docker daemon the user happens to have.
    docker_host = engine.docker_host if engine else f"unix://{state_dir / 'no-engine.sock'}"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "GATEWAY_", "DOCKER_NETWORK", "FARGO_EMULATOR_"))
        },
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "TMPDIR": str(scratch),
        "S3_DATA_DIR": str(scratch / "s3"),
        "LOG_LEVEL": "WARNING",
        "DOCKER_HOST": docker_host,
        # The host ports databases and caches are published on count up from these bases;
        # ministack's fixed defaults (15432, 16379) collide with any other emulator here.
        "RDS_BASE_PORT": str(free_port()),
        "ELASTICACHE_BASE_PORT": str(free_port()),
        # Where the emulator's patches record what the user must hear of (data_images.notes).
        "FARGO_LOCAL_STATE_DIR": str(state_dir),
        # ministack's IoT MQTT listener binds every interface (port 8883); fargo uses no IoT
        # and the emulator listens on loopback and its network's gateway only: port 0 is
        # ministack's "listener disabled".
        "IOT_MTLS_PORT": "0",
    }
    if network is not None:
        # ministack puts the containers it runs on DOCKER_NETWORK; the launcher also listens
        # on the gateway, and a patch hands that address to tasks as the emulator's.
        env |= {"DOCKER_NETWORK": network.name, "FARGO_EMULATOR_GATEWAY": network.gateway}
    process = spawn([str(python), str(LAUNCHER)], log, env)
    emulator = Emulator(
        process.pid,
        port,
        str(log),
        engine.docker_host if engine else None,
        network.name if network else None,
        network.gateway if network else None,
        engine.kind if engine else None,
        containers_wanted=containers,
    )
    _wait_healthy(emulator, process, log)
    (state_dir / "emulator.json").write_text(json.dumps(asdict(emulator)))
    return emulator


def stop(state_dir: Path | None = None) -> Emulator | None:
    state_dir = state_dir or default_state_dir()
    state = state_dir / "emulator.json"
    try:
        emulator: Emulator | None = Emulator(**json.loads(state.read_text()))
    except (OSError, ValueError, TypeError):
        emulator = None
    if emulator is not None:
        # First the emulator, which removes its containers as it shuts down (their
        # mounts would outlive the engine), then its network, then the Podman service (a
        # Docker daemon is not fargo's to stop).
        terminate(emulator.pid)
        state.unlink(missing_ok=True)
        if emulator.network is not None and emulator.docker_host is not None:
            # What it left on its network (a database started late, a task mid-stop) goes
            # first: a network with members cannot be removed.
            container_network.remove_members(emulator.docker_host, emulator.network)
            with contextlib.suppress(OSError):
                container_network.remove(emulator.docker_host, state_dir)
    container_engine.stop(state_dir)
    return emulator


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(emulator: Emulator, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FargoError(
                f"the emulator exited during start (code {process.returncode}):\n"
                + log.read_text(errors="replace")[-2000:],
                hint=f"full log: {log}",
            )
        if healthy(emulator.endpoint_url, timeout=0.5):
            return
        time.sleep(0.1)
    terminate(process.pid)
    raise FargoError(
        f"the emulator did not answer {HEALTH_PATH} within {_START_TIMEOUT_SECONDS:.0f} s",
        hint=f"see its log: {log}",
    )
