"""A registry on loopback: Debian's docker-registry (the CNCF distribution registry), for
the integration tests, bench/ and local image work. It stores blobs on the filesystem
under a directory the caller owns and listens on 127.0.0.1 on a free port.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from fargo.errors import FargoError

BINARY = "docker-registry"
INSTALL_HINT = (
    "install Debian's registry and skopeo: `apt-get install -y docker-registry skopeo` "
    "(`make system-deps` installs everything in scripts/apt-packages.txt)"
)
_START_ATTEMPTS = 3  # a free port can be taken between finding it and the bind


@dataclass
class LocalRegistry:
    address: str  # 127.0.0.1:PORT, the registry part of an image reference
    workdir: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def find_binary() -> str:
    found = shutil.which(BINARY) or (
        f"/usr/bin/{BINARY}" if Path(f"/usr/bin/{BINARY}").exists() else None
    )
    if found is None:
        raise FargoError(f"{BINARY} is not installed", hint=INSTALL_HINT)
    return found


def start_registry(
    workdir: Path, *, auth: Mapping[str, object] | None = None, timeout: float = 30.0
) -> LocalRegistry:
    """Start a registry storing under `workdir`, with delete enabled and, when given,
    `auth` as its config's auth section (htpasswd, token). Stop it with `.stop()`."""
    binary = find_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = _free_port()
        config = workdir / "config.yml"
        config.write_text(yaml.safe_dump(_config(workdir, port, auth)))
        log = workdir / "registry.log"
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [binary, "serve", str(config)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        registry = LocalRegistry(f"127.0.0.1:{port}", workdir, log, process)
        if _wait_ready(registry, timeout):
            return registry
        registry.stop()
        if attempt == _START_ATTEMPTS or "address already in use" not in _tail(log):
            break
    raise FargoError(
        f"{BINARY} did not start on 127.0.0.1 within {timeout:.0f} s; its log ends:\n{_tail(log)}",
        hint=f"see {log}",
    )


def _config(workdir: Path, port: int, auth: Mapping[str, object] | None) -> dict[str, object]:
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "storage")},
            "cache": {"blobdescriptor": "inmemory"},
            "delete": {"enabled": True},
            # Its hourly sweep of stale uploads has no business in a test run.
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {
            "addr": f"127.0.0.1:{port}",
            # Fixed per registry: without it each start makes one up and logs a warning.
            "secret": secrets.token_hex(16),
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
    }
    if auth:
        config["auth"] = dict(auth)
    return config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(registry: LocalRegistry, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{registry.url}/v2/", timeout=1):  # noqa: S310 - loopback URL built here
                return True
        except urllib.error.HTTPError as error:
            error.close()
            return error.code == 401  # up, and asking for credentials as configured
        except OSError:
            time.sleep(0.05)
    return False


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
