"""Background processes fargo starts and stops: the emulator and its Podman service.

Each runs in its own process group, so it outlives the command that started it and is
stopped whole (SIGTERM, then SIGKILL after 10 s).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

# Children started by this process. Holding the Popen keeps Python from warning that a
# child "is still running" when the object is collected (running on is the point), and
# lets stop reap it.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn(argv: list[str], log: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    with log.open("w") as log_file:
        process = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            start_new_session=True,  # outlives this command: `fargo local start` returns
        )
    _CHILDREN[process.pid] = process
    return process


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    child = _CHILDREN.get(pid)
    # A child that exited is a zombie until reaped, and zombies still answer kill(0).
    return child is None or child.poll() is None


def terminate(pid: int) -> None:
    """Stop the process group `pid` leads: SIGTERM, then SIGKILL after 10 s."""
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        child.wait(timeout=5)
