"""Fixtures that run the example app against a private, throwaway PostgreSQL server.

The server is a real one (Debian's `postgresql` package), started once per test session
in a temporary directory on a free loopback port, and stopped at the end.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

# No __init__.py in this directory, so that its module names cannot clash with the
# project's top-level tests/ package; the example's `app` package is found this way.
EXAMPLE_DIR = Path(__file__).resolve().parent.parent
if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with "
    "`apt-get install -y postgresql` (Debian/Ubuntu; `make test` does this from "
    "scripts/apt-packages.txt), or put a directory holding initdb and pg_ctl on PATH."
)

# Debian installs each major version's server binaries under /usr/lib/postgresql/<N>/bin.
DEBIAN_PG_LIB = Path("/usr/lib/postgresql")
# Postgres refuses to run as root; when the suite runs as root it runs as this user.
PG_SYSTEM_USER = "postgres"
# The role the app logs in as, with a password, the way it does in production.
APP_USER = "fargo_app"
# Spaces and quotes check that conninfo is quoted; the cluster is gone after the run.
APP_PASSWORD = "test password with spaces 'and' quotes"  # noqa: S105


@dataclass(frozen=True)
class PostgresServer:
    """How to reach the throwaway server."""

    host: str
    port: int
    user: str
    password: str

    def conninfo(self, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.host, port=self.port, dbname=dbname, user=self.user, password=self.password
        )


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: prefer the newest installed major version.
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def _find_bindir() -> Path:
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        # On Debian pg_config ships with libpq-dev, so it may name a bindir without a server.
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    candidates += sorted(DEBIAN_PG_LIB.glob("*/bin"), key=_version_key, reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    pytest.fail(INSTALL_HINT, pytrace=False)


def _free_port() -> int:
    # The kernel picks an unused port; the small race until Postgres binds it is retried.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_pg(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a Postgres binary, as the `postgres` system user when we are root."""
    if os.geteuid() == 0:
        # subprocess drops privileges in the child itself: no runuser/PAM needed, and
        # extra_groups=[] sheds root's supplementary groups as well.
        return subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            user=PG_SYSTEM_USER,
            group=PG_SYSTEM_USER,
            extra_groups=[],
            check=False,
        )
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def _check(result: subprocess.CompletedProcess[str], what: str, log: Path | None = None) -> None:
    if result.returncode == 0:
        return
    detail = result.stdout + result.stderr
    if log is not None and log.exists():
        detail += f"\n--- server log {log} ---\n" + log.read_text(errors="replace")
    pytest.fail(f"{what} failed (exit {result.returncode}):\n{detail}", pytrace=False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL cluster for the session and stop it afterwards."""
    bindir = _find_bindir()
    if os.geteuid() == 0:
        try:
            import pwd  # noqa: PLC0415 - POSIX-only, and only needed on this branch

            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            pytest.fail(
                f"running as root, but there is no `{PG_SYSTEM_USER}` user to run Postgres "
                f"as. {INSTALL_HINT}",
                pytrace=False,
            )

    started = time.monotonic()
    # Not pytest's tmp_path: that lives under a root-only 0700 directory which the
    # `postgres` user could not enter. A short path also keeps the socket path under
    # the 107-byte limit for unix sockets.
    base = Path(tempfile.mkdtemp(prefix="fargo-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, user=PG_SYSTEM_USER, group=PG_SYSTEM_USER)
    datadir, log, pwfile = base / "data", base / "server.log", base / "pwfile"
    pwfile.write_text(APP_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(pwfile, user=PG_SYSTEM_USER, group=PG_SYSTEM_USER)

    try:
        _check(
            _run_as_pg(
                [
                    str(bindir / "initdb"),
                    f"--pgdata={datadir}",
                    f"--username={APP_USER}",
                    f"--pwfile={pwfile}",
                    # Password logins over TCP, as against RDS; sockets are unused.
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",  # a throwaway cluster needs no durability
                ],
                cwd=base,
            ),
            "initdb",
        )
        port = 0
        for _attempt in range(3):
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} "
                f"-c unix_socket_directories={base} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = _run_as_pg(
                [
                    str(bindir / "pg_ctl"),
                    f"--pgdata={datadir}",
                    f"--log={log}",
                    f"--options={options}",
                    "--wait",
                    "--timeout=60",
                    "start",
                ],
                cwd=base,
            )
            if result.returncode == 0:
                break
            # Only a lost race for the port is worth another try.
            if "could not bind" not in log.read_text(errors="replace"):
                _check(result, "pg_ctl start", log)
        else:
            _check(result, "pg_ctl start", log)

        server = PostgresServer("127.0.0.1", port, APP_USER, APP_PASSWORD)
        # Seen with -s, or in a failing test's setup output: the fixture's cost is worth knowing.
        sys.stderr.write(
            f"postgres ready on 127.0.0.1:{port} in {time.monotonic() - started:.2f}s\n"
        )
        yield server
    finally:
        if (datadir / "postmaster.pid").exists():
            _run_as_pg(
                [str(bindir / "pg_ctl"), f"--pgdata={datadir}", "--mode=fast", "--wait", "stop"],
                cwd=base,
            )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def database(postgres: PostgresServer) -> Iterator[str]:
    """A fresh, empty database per test, so tests cannot see each other's rows or schema."""
    name = f"notes_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(postgres.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db_env(
    postgres: PostgresServer, database: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Point the app at the test database through the env vars fargo injects in ECS."""
    env = {
        "DB_HOST": postgres.host,
        "DB_PORT": str(postgres.port),
        "DB_NAME": database,
        "DB_USER": postgres.user,
        "DB_PASSWORD": postgres.password,
    }
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
