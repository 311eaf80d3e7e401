"""Fixtures that run the example app against private, throwaway servers.

Each is real and started once per test session: PostgreSQL (Debian's `postgresql`
package) and Redis (`redis-server`), each in a temporary directory on a free loopback
port, and fargo's embedded AWS emulator for SQS, S3 and SES. All stop at the end.
"""

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from psycopg import sql

from fargo import local

# No __init__.py in this directory, so that its module names cannot clash with the
# project's top-level tests/ package; the example's `app` package is found this way.
EXAMPLE_DIR = Path(__file__).resolve().parent.parent
if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))

PG_INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them with "
    "`apt-get install -y postgresql` (Debian/Ubuntu; `make test` does this from "
    "scripts/apt-packages.txt), or put a directory holding initdb and pg_ctl on PATH."
)
REDIS_INSTALL_HINT = (
    "redis-server was not found on PATH. Install it with `apt-get install -y redis-server` "
    "(Debian/Ubuntu; `make test` does this from scripts/apt-packages.txt)."
)

# Debian installs each major version's server binaries under /usr/lib/postgresql/<N>/bin.
DEBIAN_PG_LIB = Path("/usr/lib/postgresql")
# Postgres refuses to run as root; when the suite runs as root it runs as this user.
PG_SYSTEM_USER = "postgres"
# The role the app logs in as, with a password, the way it does in production.
APP_USER = "fargo_app"
# Spaces and quotes check that conninfo is quoted; the cluster is gone after the run.
APP_PASSWORD = "test password with spaces 'and' quotes"  # noqa: S105

# The emulator's region, and the mail domain the session verifies in SES.
REGION = "us-east-1"
MAIL_DOMAIN = "example.com"
# Tiny, so a failed job is visible again within the test; after this many receives
# the message moves to the dead-letter queue.
VISIBILITY_TIMEOUT_S = 1
MAX_RECEIVES = 2


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
    pytest.fail(PG_INSTALL_HINT, pytrace=False)


def _free_port() -> int:
    # The kernel picks an unused port; the small race until Postgres binds it is retried.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, not listening, while held."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        yield int(closed.getsockname()[1])


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
                f"as. {PG_INSTALL_HINT}",
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


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}"


def _start_redis(binary: str, base: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start redis-server on a free port; retry only a lost race for the port."""
    log = base / "redis.log"
    for _attempt in range(3):
        port = _free_port()
        process = subprocess.Popen(
            [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(base),
                "--logfile", str(log),
                # A cache: no snapshots, no append-only file, nothing left on disk.
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        with client:
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    client.ping()
                except redis.ConnectionError:
                    time.sleep(0.02)
                else:
                    return process, port
        if process.poll() is None:
            process.kill()
        process.wait()
        text = log.read_text(errors="replace") if log.exists() else ""
        if "Address already in use" not in text:
            pytest.fail(f"redis-server did not start:\n{text}", pytrace=False)
    pytest.fail("redis-server could not bind a free port in 3 tries", pytrace=False)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """Start a private redis-server for the session (no persistence) and stop it after."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(REDIS_INSTALL_HINT, pytrace=False)
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="fargo-redis-"))
    try:
        process, port = _start_redis(binary, base)
        sys.stderr.write(f"redis ready on 127.0.0.1:{port} in {time.monotonic() - started:.2f}s\n")
        try:
            yield RedisServer("127.0.0.1", port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied before each test so tests share no cache entries."""
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    return redis_server.url


@dataclass(frozen=True)
class AwsAccount:
    """An isolated account on the emulator, with the resources fargo would create."""

    endpoint_url: str
    access_key: str
    bucket: str
    mail_from: str
    mail_configuration_set: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key="test",  # noqa: S106 - the emulator ignores it
        )

    def sent_mail(self) -> list[dict[str, Any]]:
        """What SES sent from this account: ministack's /_ministack/ses/messages."""
        url = f"{self.endpoint_url}/_ministack/ses/messages?account={self.access_key}"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            messages: dict[str, list[dict[str, Any]]] = json.load(response)["messages"]
        return messages.get(self.access_key, [])


@pytest.fixture(scope="session")
def aws_account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsAccount]:
    """fargo's emulator for the session, an account of its own, a bucket and a sender.

    In a deploy fargo creates the bucket, the mail configuration set and the verified mail
    domain; here the test does.
    """
    started = time.monotonic()
    state = tmp_path_factory.mktemp("emulator")
    emulator = local.start(state_dir=state)
    try:
        # A random 12-digit access key selects a fresh, isolated emulator account.
        key = "".join(random.choices("0123456789", k=12))  # noqa: S311 - an id, not a secret
        account = AwsAccount(
            emulator.endpoint_url, key, f"uploads-{key}", f"no-reply@{MAIL_DOMAIN}", "mail"
        )
        account.client("s3").create_bucket(Bucket=account.bucket)
        sesv2 = account.client("sesv2")
        sesv2.create_configuration_set(ConfigurationSetName=account.mail_configuration_set)
        sesv2.create_email_identity(
            EmailIdentity=MAIL_DOMAIN,
            ConfigurationSetName=account.mail_configuration_set,
        )
        sys.stderr.write(
            f"emulator ready on {emulator.endpoint_url} in {time.monotonic() - started:.2f}s\n"
        )
        yield account
    finally:
        local.stop(state_dir=state)


@dataclass(frozen=True)
class Queues:
    url: str
    dlq_url: str


@pytest.fixture
def queues(aws_account: AwsAccount) -> Queues:
    """A fresh `jobs` queue and its dead-letter queue per test, as fargo makes them."""
    sqs = aws_account.client("sqs")
    name = f"jobs-{uuid.uuid4().hex[:12]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    dlq_arn = attributes["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return Queues(url, dlq_url)


@pytest.fixture
def app_env(
    db_env: dict[str, str],
    redis_url: str,
    aws_account: AwsAccount,
    queues: Queues,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Every variable fargo injects into a service that uses db, cache, jobs, uploads and
    mail, pointed at this session's servers; subprocesses inherit them from os.environ."""
    env = {
        **db_env,
        "REDIS_URL": redis_url,
        "QUEUE_URL_JOBS": queues.url,
        "BUCKET_UPLOADS": aws_account.bucket,
        "MAIL_FROM": aws_account.mail_from,
        "MAIL_CONFIGURATION_SET": aws_account.mail_configuration_set,
        # ECS sets AWS_REGION; locally AWS_ENDPOINT_URL sends every client to the emulator.
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": aws_account.endpoint_url,
        "AWS_ACCESS_KEY_ID": aws_account.access_key,
        "AWS_SECRET_ACCESS_KEY": "test",
        # No developer's ~/.aws settings may leak into the run.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "MAIL_TO"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def client() -> Iterator[TestClient]:
    from app.main import app  # noqa: PLC0415 - the example's package is on sys.path above

    with TestClient(app) as test_client:
        yield test_client
