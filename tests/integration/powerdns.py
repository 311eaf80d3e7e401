"""A real PowerDNS Authoritative server (Debian's pdns-server, gsqlite3 backend) on loopback.

Started in the foreground from a config directory of its own: an API on one free port,
DNS on another, a SQLite database made from the schema the backend package ships, and
no security poll (it would look up a name on the internet).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

INSTALL_HINT = "install pdns-server and pdns-backend-sqlite3 (make system-deps)"
# Debian ships the schema in the package's share directory, and links it from its docs.
SCHEMAS = (
    Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"),
    Path("/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql"),
)
STARTUP_SECONDS = 20.0


@dataclass
class PowerDns:
    process: subprocess.Popen[bytes]
    api_url: str
    api_key: str
    dns_port: int
    log: Path

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.api_url}/api/v1/servers/localhost",
            headers={"X-API-Key": self.api_key},
            timeout=10,
        )

    def create_zone(self, zone: str) -> None:
        with self.api() as api:
            response = api.post(
                "/zones",
                json={"name": f"{zone}.", "kind": "Native", "nameservers": ["ns1.example.net."]},
            )
        assert response.status_code == 201, response.text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def pdns_binary() -> str:
    """pdns_server's path. A missing binary fails the run under CI and skips it elsewhere."""
    found = shutil.which("pdns_server") or shutil.which("pdns_server", path="/usr/sbin")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"pdns_server is not installed\n  hint: {INSTALL_HINT}", pytrace=False)
        pytest.skip(f"pdns_server is not installed ({INSTALL_HINT})")
    return found


def start_powerdns(workdir: Path, *, serve_alias: bool = False) -> PowerDns:
    """`serve_alias`: answer ALIAS records by looking their targets up (`resolver` and
    `expand-alias=yes`). The resolver it asks is itself, so a test's ALIAS targets are
    names in zones this server holds: no lookup leaves the machine."""
    binary = pdns_binary()
    schema = next((s for s in SCHEMAS if s.exists()), None)
    if schema is None:
        pytest.fail(f"no gsqlite3 schema in {SCHEMAS}\n  hint: {INSTALL_HINT}", pytrace=False)
    database = workdir / "pdns.sqlite3"
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.executescript(schema.read_text())
    api_port, dns_port, key = _free_port(), _free_port(udp=True), secrets.token_hex(16)
    settings = {
        "launch": "gsqlite3",
        "gsqlite3-database": str(database),
        "api": "yes",
        "api-key": key,
        "webserver": "yes",
        "webserver-address": "127.0.0.1",
        "webserver-port": str(api_port),
        "webserver-allow-from": "127.0.0.1",
        "local-address": "127.0.0.1",
        "local-port": str(dns_port),
        "socket-dir": str(workdir),
        "security-poll-suffix": "",
        # No caches: a test reads its own write back at once.
        "cache-ttl": "0",
        "negquery-cache-ttl": "0",
        "query-cache-ttl": "0",
    }
    if serve_alias:
        settings |= {"resolver": f"127.0.0.1:{dns_port}", "expand-alias": "yes"}
    (workdir / "pdns.conf").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    log = workdir / "pdns.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, f"--config-dir={workdir}", "--daemon=no", "--guardian=no"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = PowerDns(process, f"http://127.0.0.1:{api_port}", key, dns_port, log)
    _wait_ready(server)
    return server


def _wait_ready(server: PowerDns) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"pdns_server exited:\n{server.log.read_text()[-2000:]}", pytrace=False)
        with contextlib.suppress(httpx.TransportError), server.api() as api:
            if api.get("/zones").status_code == 200:
                return
        time.sleep(0.1)
    server.stop()
    pytest.fail(f"pdns_server did not answer:\n{server.log.read_text()[-2000:]}", pytrace=False)


def _free_port(*, udp: bool = False) -> int:
    """A loopback port free for TCP (and UDP too, for DNS, which listens on both)."""
    while True:
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
        if not udp:
            return port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
