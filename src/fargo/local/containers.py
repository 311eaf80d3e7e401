"""Whether the emulator that `--local` and `fargo local start` use runs the app's containers.

By default it does whenever a container engine is available (a Docker daemon, or Podman
and runc for the Podman service fargo starts), and keeps records only otherwise: then the
command that starts it says once that the app is not running and what to install, and
`status --local` notes it. `fargo local start --no-containers`, or FARGO_LOCAL_CONTAINERS=0
for every command, keeps records only, for fast infrastructure checks; `--containers`, or
FARGO_LOCAL_CONTAINERS=1, requires an engine and fails without one.

The Python API (`fargo.local.start`) keeps records only unless asked: this module is the
CLI's choice, not the library's.
"""

from __future__ import annotations

import enum
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fargo.errors import FargoError, InputError
from fargo.local import engine, server
from fargo.local.server import Emulator

VARIABLE: Final = "FARGO_LOCAL_CONTAINERS"
RESTART: Final = "`fargo local stop`, then `fargo local start`"
NO_ENGINE: Final = (
    "no container engine here, so the emulator keeps records only: the app is not "
    f"running. To run it, {engine.INSTALL_HINT}; then restart the emulator: {RESTART}"
)
RECORDS_ONLY: Final = (
    f"the emulator keeps records only, as asked (--no-containers or {VARIABLE}=0): "
    "the app is not running"
)


class Containers(enum.Enum):
    AUTO = "auto"  # when an engine is available, else records only (said once)
    REQUIRED = "required"  # an engine or a failure
    OFF = "off"  # records only


_WORDS: Final = {
    "": Containers.AUTO,
    "auto": Containers.AUTO,
    "0": Containers.OFF,
    "false": Containers.OFF,
    "no": Containers.OFF,
    "off": Containers.OFF,
    "1": Containers.REQUIRED,
    "true": Containers.REQUIRED,
    "yes": Containers.REQUIRED,
    "on": Containers.REQUIRED,
}


def chosen(flag: bool | None, environ: Mapping[str, str] = os.environ) -> Containers:
    """The choice of `--containers`/`--no-containers` when given, else of
    FARGO_LOCAL_CONTAINERS, else AUTO."""
    if flag is not None:
        return Containers.REQUIRED if flag else Containers.OFF
    raw = environ.get(VARIABLE, "")
    found = _WORDS.get(raw.strip().lower())
    if found is None:
        raise InputError(
            f"{VARIABLE}={raw!r} is not a choice of containers for the emulator",
            hint=f"set {VARIABLE} to 0 (records only), 1 (require a container engine) "
            "or auto (containers when an engine is available, the default)",
        )
    return found


def engine_available() -> bool:
    """Whether `engine.start` would find an engine: a Docker daemon that answers, or
    Podman and runc for the Podman service."""
    if engine.find_docker() is not None:
        return True
    return shutil.which("podman") is not None and shutil.which("runc") is not None


@dataclass(frozen=True)
class Started:
    emulator: Emulator
    started: bool  # False: it was already running
    # What the user should hear about containers: said by the command that started it.
    notes: tuple[str, ...] = ()


def ensure(mode: Containers, port: int | None = None, *, state_dir: Path | None = None) -> Started:
    """The emulator for `--local` and `fargo local start`: the running one, or one started
    with containers as `mode` says."""
    running = server.status(state_dir)
    if running is not None and (port is None or running.port == port):
        return Started(running, started=False, notes=_mismatch(running, mode))
    if mode is Containers.REQUIRED and not engine_available():
        raise FargoError(
            "containers are required (--containers or FARGO_LOCAL_CONTAINERS=1), but no "
            "container engine is available",
            hint=engine.INSTALL_HINT,
        )
    emulator = server.start(port, state_dir=state_dir, containers=mode is not Containers.OFF)
    note = NO_ENGINE if emulator.docker_host is None and emulator.containers_wanted else None
    return Started(emulator, started=True, notes=(note,) if note else ())


def status_note(emulator: Emulator) -> str | None:
    """Why a records-only emulator runs no app, for `status --local`; None if it runs
    containers."""
    if emulator.docker_host is not None:
        return None
    return NO_ENGINE if emulator.containers_wanted else RECORDS_ONLY


def _mismatch(running: Emulator, mode: Containers) -> tuple[str, ...]:
    """What to say when the running emulator is not what `mode` asks for: containers are
    chosen when the emulator starts, so it takes a restart."""
    with_containers = running.docker_host is not None
    if mode is Containers.REQUIRED and not with_containers:
        raise FargoError(
            f"the emulator already runs at {running.endpoint_url}, keeping records only",
            hint=f"restart it to run containers: {RESTART}"
            + ("" if engine_available() else f" ({engine.INSTALL_HINT} first)"),
        )
    if mode is Containers.AUTO and not with_containers and engine_available():
        return (
            f"the emulator at {running.endpoint_url} keeps records only, but a container "
            f"engine is available now: to run the app, restart it: {RESTART}",
        )
    if mode is Containers.OFF and with_containers:
        return (
            f"the emulator at {running.endpoint_url} already runs containers; records only "
            f"takes a restart: `fargo local stop`, then `fargo local start --no-containers`",
        )
    return ()
