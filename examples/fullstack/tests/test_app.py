"""The example app, driven through FastAPI's TestClient against a real PostgreSQL."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from app import db
from app.main import app
from conftest import PostgresServer

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
HTTP_CREATED = 201
HTTP_OK = 200
HTTP_UNPROCESSABLE = 422
HTTP_UNAVAILABLE = 503


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _run_migration(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # As the one-off ECS task runs it: a separate process, configured only by env vars.
    return subprocess.run(
        [sys.executable, "-m", "app.migrate"],
        cwd=EXAMPLE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _table_exists(dbname: str, postgres: PostgresServer) -> bool:
    with psycopg.connect(postgres.conninfo(dbname)) as conn:
        row = conn.execute("SELECT to_regclass('public.notes') IS NOT NULL").fetchone()
    return bool(row and row[0])


def test_health_needs_no_database(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # No database settings at all: the load balancer's check must still pass.
    for name in ("DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    response = client.get("/api/health")
    assert response.status_code == HTTP_OK
    assert response.json() == {"status": "ok"}


@pytest.mark.integration
def test_health_with_database_configured(client: TestClient, db_env: dict[str, str]) -> None:
    response = client.get("/api/health")
    assert response.status_code == HTTP_OK
    assert response.json() == {"status": "ok"}


@pytest.mark.integration
def test_notes_round_trip(client: TestClient, db_env: dict[str, str]) -> None:
    # A brand-new database with no migration run: the app creates the table itself.
    assert client.get("/api/notes").json() == []

    first = client.post("/api/notes", json={"body": "hello from fargo"})
    second = client.post("/api/notes", json={"body": "ünïcode ✓"})
    assert first.status_code == HTTP_CREATED
    assert second.status_code == HTTP_CREATED
    assert first.json()["body"] == "hello from fargo"
    assert isinstance(first.json()["id"], int)

    listed = client.get("/api/notes")
    assert listed.status_code == HTTP_OK
    # Newest first, exactly as stored.
    assert listed.json() == [second.json(), first.json()]
    assert client.get("/api/notes", params={"limit": 1}).json() == [second.json()]


@pytest.mark.integration
def test_rejects_empty_note(client: TestClient, db_env: dict[str, str]) -> None:
    response = client.post("/api/notes", json={"body": ""})
    assert response.status_code == HTTP_UNPROCESSABLE
    assert client.get("/api/notes").json() == []


@pytest.mark.integration
def test_migration_is_idempotent(
    client: TestClient, db_env: dict[str, str], postgres: PostgresServer
) -> None:
    first = _run_migration(db_env)
    assert first.returncode == 0, first.stderr
    assert "migration complete" in first.stdout
    assert _table_exists(db_env["DB_NAME"], postgres)

    created = client.post("/api/notes", json={"body": "survives a second migration"})
    assert created.status_code == HTTP_CREATED

    second = _run_migration(db_env)
    assert second.returncode == 0, second.stderr
    assert client.get("/api/notes").json() == [created.json()]


@pytest.mark.integration
def test_database_url_overrides_db_vars(
    client: TestClient,
    db_env: dict[str, str],
    postgres: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres.conninfo(db_env["DB_NAME"]))
    # Were these used, connecting would fail.
    monkeypatch.setenv("DB_HOST", "db.invalid")
    monkeypatch.setenv("DB_PASSWORD", "wrong")
    created = client.post("/api/notes", json={"body": "via DATABASE_URL"})
    assert created.status_code == HTTP_CREATED
    assert client.get("/api/notes").json() == [created.json()]


@pytest.mark.integration
def test_unreachable_database_is_503(
    client: TestClient, db_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port that is bound but not listening refuses connections for as long as it is held.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("DB_PORT", str(closed.getsockname()[1]))
        response = client.get("/api/notes")
    assert response.status_code == HTTP_UNAVAILABLE
    assert response.json() == {"detail": "database unavailable"}
    # Health stays green: a database outage must not make ECS replace every task.
    assert client.get("/api/health").status_code == HTTP_OK


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DB_HOST", "db.example")
    monkeypatch.setenv("DB_NAME", "notes")
    monkeypatch.delenv("DB_USER", raising=False)
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    with pytest.raises(db.DatabaseConfigError, match="DB_USER, DB_PASSWORD"):
        db.conninfo()
