"""RDS and ElastiCache run as containers from the local Debian-built images, and say so.

No registry is reachable here, so the official `postgres:16-alpine` and
`valkey/valkey:8.1-alpine` cannot be pulled: the emulator runs `localhost/fargo-postgres:15`
and `localhost/fargo-redis:7` instead (the `data_images` fixture built and loaded them), and
records each substitution for fargo to print. What a client sees is real: the master user's
password opens the database, and the serverless cache answers over TLS with a certificate
the emulator's CA signs, as ElastiCache Serverless always speaks TLS.
"""

from __future__ import annotations

import random
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from fargo.local import data_images as local_data_images
from fargo.local import engine as container_engine
from fargo.local.server import Emulator

MASTER_USER = "appmaster"
MASTER_PASSWORD = "local-Passw0rd-1"
DB_NAME = "notes"
READY_TIMEOUT_SECONDS = 180.0


@pytest.fixture(scope="module")
def clients(emulator: Emulator) -> Callable[[str], Any]:
    """boto3 clients of one fresh emulator account for the whole module."""
    key = "".join(random.choices("0123456789", k=12))  # noqa: S311 - an id, not a secret

    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=emulator.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key="test",
        )

    return client


def _wait(describe: Callable[[], dict[str, Any]], status_key: str, ready: str) -> dict[str, Any]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        found = describe()
        status = found[status_key]
        if status == ready:
            return found
        assert "fail" not in status, f"{status_key} is {status}: {found}"
        assert time.monotonic() < deadline, f"{status_key} still {status}: {found}"
        time.sleep(1)


@pytest.fixture(scope="module")
def started(clients: Callable[[str], Any], data_images: list[str]) -> Iterator[dict[str, Any]]:
    """A PostgreSQL 16 instance and a Valkey 8 serverless cache, created at once and waited for;
    deleted afterwards, so their containers do not outlive the module."""
    rds, elasticache = clients("rds"), clients("elasticache")
    rds.create_db_instance(
        DBInstanceIdentifier="notes-db",
        Engine="postgres",
        EngineVersion="16.3",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername=MASTER_USER,
        MasterUserPassword=MASTER_PASSWORD,
        DBName=DB_NAME,
    )
    elasticache.create_serverless_cache(
        ServerlessCacheName="notes-cache", Engine="valkey", MajorEngineVersion="8"
    )
    database = _wait(
        lambda: rds.describe_db_instances(DBInstanceIdentifier="notes-db")["DBInstances"][0],
        "DBInstanceStatus",
        "available",
    )
    cache = _wait(
        lambda: elasticache.describe_serverless_caches(ServerlessCacheName="notes-cache")[
            "ServerlessCaches"
        ][0],
        "Status",
        "available",
    )
    yield {"database": database, "cache": cache}
    rds.delete_db_instance(DBInstanceIdentifier="notes-db", SkipFinalSnapshot=True)
    elasticache.delete_serverless_cache(ServerlessCacheName="notes-cache")


def test_postgres_16_runs_as_local_postgres_15_with_the_master_password(
    started: dict[str, Any],
) -> None:
    endpoint = started["database"]["Endpoint"]
    with psycopg.connect(
        host=endpoint["Address"],
        port=endpoint["Port"],
        user=MASTER_USER,
        password=MASTER_PASSWORD,
        dbname=DB_NAME,
        connect_timeout=10,
    ) as connection:
        version = connection.execute("select version()").fetchone()
        database = connection.execute("select current_database()").fetchone()
    assert version is not None
    assert version[0].startswith("PostgreSQL 15.")
    assert database == (DB_NAME,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host=endpoint["Address"],
            port=endpoint["Port"],
            user=MASTER_USER,
            password="not-the-password",
            dbname=DB_NAME,
            connect_timeout=10,
        )


def test_valkey_serverless_cache_answers_over_tls_that_the_emulator_ca_signs(
    started: dict[str, Any], emulator: Emulator
) -> None:
    endpoint = started["cache"]["Endpoint"]
    with urllib.request.urlopen(  # noqa: S310 - the local emulator's own URL
        f"{emulator.endpoint_url}/_ministack/elasticache/ca.pem", timeout=10
    ) as response:
        ca = response.read().decode()
    context = ssl.create_default_context(cadata=ca)
    with (
        socket.create_connection((endpoint["Address"], int(endpoint["Port"])), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=endpoint["Address"]) as tls,
    ):
        tls.sendall(b"PING\r\n")
        assert tls.recv(64) == b"+PONG\r\n"
        tls.sendall(b"INFO server\r\n")
        info = b""
        while b"redis_version" not in info or not info.endswith(b"\r\n"):
            info += tls.recv(4096)
    assert b"redis_version:7." in info


def test_each_substitution_is_recorded_for_fargo_to_say(
    started: dict[str, Any], runtime_state: Path
) -> None:
    notes = local_data_images.notes(runtime_state)
    assert "postgres 16 requested, local 15 (localhost/fargo-postgres:15)" in notes
    assert "valkey 8.1 requested, local redis 7 (localhost/fargo-redis:7)" in notes


def test_their_host_ports_listen_on_loopback_only(
    started: dict[str, Any], emulator: Emulator
) -> None:
    """ministack publishes each database's and cache's port on the host; the engine would bind
    it on every interface, and a local database must not be reachable from the network."""
    del started
    assert emulator.docker_host is not None
    status, listed = container_engine.call(emulator.docker_host, "GET", "/containers/json")
    assert status == 200
    published = {
        container["Names"][0]: {(p.get("IP"), p.get("PublicPort")) for p in container["Ports"]}
        for container in listed
        if container["Image"].startswith(("localhost/fargo-postgres", "localhost/fargo-redis"))
    }
    assert len(published) >= 2, f"no database and cache containers among {listed}"
    for name, ports in published.items():
        assert ports, f"{name} publishes no port"
        assert {address for address, _ in ports} == {"127.0.0.1"}, (name, ports)
