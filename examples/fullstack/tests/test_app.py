"""The API, driven through FastAPI's TestClient against real Postgres and Redis and the
emulator's SQS and S3."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from app import db, main
from app.main import app
from conftest import AwsAccount, PostgresServer, Queues, refusing_port

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_TOO_LARGE = 413
HTTP_UNPROCESSABLE = 422
HTTP_SERVER_ERROR = 500
HTTP_UNAVAILABLE = 503

# Everything fargo injects, the database's and the app tier's.
INJECTED = (
    "DATABASE_URL",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "REDIS_URL",
    "QUEUE_URL_JOBS",
    "BUCKET_UPLOADS",
    "MAIL_FROM",
    "AWS_ENDPOINT_URL",
)


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


def test_health_needs_no_dependencies(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # No database, cache, queue, bucket or mail settings: the load balancer's check passes.
    for name in INJECTED:
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
def test_notes_round_trip(client: TestClient, app_env: dict[str, str]) -> None:
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
    client: TestClient,
    db_env: dict[str, str],
    app_env: dict[str, str],
    postgres: PostgresServer,
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
    app_env: dict[str, str],
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
    with refusing_port() as port:
        monkeypatch.setenv("DB_PORT", str(port))
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


@pytest.mark.integration
def test_create_enqueues_a_job(
    client: TestClient, app_env: dict[str, str], aws_account: AwsAccount, queues: Queues
) -> None:
    created = client.post("/api/notes", json={"body": "process me"})
    assert created.status_code == HTTP_CREATED
    received = aws_account.client("sqs").receive_message(QueueUrl=queues.url, WaitTimeSeconds=1)
    bodies = [json.loads(message["Body"]) for message in received.get("Messages", [])]
    assert bodies == [{"note_id": created.json()["id"]}]
    assert created.json()["processed_at"] is None


@pytest.mark.integration
def test_failed_enqueue_stores_no_note(
    app_env: dict[str, str], queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQS refuses the send (no such queue): the insert rolls back, so no note is left
    # without a job. The client sees a server error, as it would in ECS.
    monkeypatch.setenv("QUEUE_URL_JOBS", queues.url + "-missing")
    with TestClient(app, raise_server_exceptions=False) as failing:
        response = failing.post("/api/notes", json={"body": "never stored"})
        assert response.status_code == HTTP_SERVER_ERROR
    monkeypatch.setenv("QUEUE_URL_JOBS", queues.url)
    with TestClient(app) as working:
        assert working.get("/api/notes").json() == []


@pytest.mark.integration
def test_note_read_is_cached(
    client: TestClient, app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = client.post("/api/notes", json={"body": "cache me"}).json()
    note_id = created["id"]
    assert client.get(f"/api/notes/{note_id + 1}").status_code == HTTP_NOT_FOUND

    first = client.get(f"/api/notes/{note_id}")  # a miss: read from Postgres, then cached
    assert first.status_code == HTTP_OK
    assert first.json() == created
    assert first.headers["X-Cache"] == "miss"
    with redis.Redis.from_url(app_env["REDIS_URL"]) as cache:
        ttl = cache.ttl(f"note:v1:{note_id}")
    assert 0 < ttl <= main.NOTE_TTL_S

    with refusing_port() as port:
        monkeypatch.setenv("DB_PORT", str(port))
        # Postgres is unreachable now, as a miss shows; the hit never goes there.
        assert client.get(f"/api/notes/{note_id + 1}").status_code == HTTP_UNAVAILABLE
        hit = client.get(f"/api/notes/{note_id}")
    assert hit.status_code == HTTP_OK
    assert hit.json() == created
    assert hit.headers["X-Cache"] == "hit"


@pytest.mark.integration
def test_the_second_read_says_it_came_from_the_cache(
    client: TestClient, app_env: dict[str, str]
) -> None:
    """`X-Cache` tells a client where the note came from: the first read misses and fills
    the cache, the second is served from it; the key is the one Redis holds."""
    created = client.post("/api/notes", json={"body": "read me twice"}).json()
    with redis.Redis.from_url(app_env["REDIS_URL"]) as cache:
        assert cache.exists(f"note:v1:{created['id']}") == 0
        first = client.get(f"/api/notes/{created['id']}")
        assert cache.exists(f"note:v1:{created['id']}") == 1
    second = client.get(f"/api/notes/{created['id']}")
    assert (first.status_code, second.status_code) == (HTTP_OK, HTTP_OK)
    assert first.json() == second.json() == created
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")


@pytest.mark.integration
def test_cache_outage_reads_through(
    client: TestClient, app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = client.post("/api/notes", json={"body": "no cache today"}).json()
    with refusing_port() as port:
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}")
        response = client.get(f"/api/notes/{created['id']}")
    assert response.status_code == HTTP_OK
    assert response.json() == created
    assert response.headers["X-Cache"] == "miss"  # from Postgres, honestly


@pytest.mark.integration
def test_upload_round_trip(
    client: TestClient, app_env: dict[str, str], aws_account: AwsAccount
) -> None:
    payload = bytes(range(256)) * 64  # binary, and more than one chunk's worth
    stored = client.post("/api/uploads", content=payload, headers={"Content-Type": "image/png"})
    assert stored.status_code == HTTP_CREATED
    key = stored.json()["key"]
    assert stored.json() == {"key": key, "size": len(payload), "content_type": "image/png"}

    # Really in the bucket, under the key the API returned.
    obj = aws_account.client("s3").get_object(Bucket=aws_account.bucket, Key=key)
    assert obj["Body"].read() == payload

    read = client.get(f"/api/uploads/{key}")
    assert read.status_code == HTTP_OK
    assert read.content == payload
    assert read.headers["content-type"] == "image/png"
    assert read.headers["content-disposition"] == "attachment"
    assert read.headers["x-content-type-options"] == "nosniff"


@pytest.mark.integration
def test_upload_errors(
    client: TestClient, app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get(f"/api/uploads/{'0' * 32}").status_code == HTTP_NOT_FOUND
    # Only keys the API generates: nothing else in the bucket can be named.
    assert client.get("/api/uploads/NOT-A-KEY").status_code == HTTP_UNPROCESSABLE
    assert client.post("/api/uploads", content=b"").status_code == HTTP_BAD_REQUEST
    monkeypatch.setattr(main, "MAX_UPLOAD_BYTES", 8)
    assert client.post("/api/uploads", content=b"123456789").status_code == HTTP_TOO_LARGE
