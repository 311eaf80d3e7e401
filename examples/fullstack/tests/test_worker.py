"""The queue worker and the nightly job, against real Postgres and the emulator's SQS and
SES. Queue timeouts are tiny (conftest.VISIBILITY_TIMEOUT_S) to keep retries quick."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from app import mail, worker
from app.worker import BatchResult
from conftest import (
    MAX_RECEIVES,
    VISIBILITY_TIMEOUT_S,
    AwsAccount,
    PostgresServer,
    Queues,
    refusing_port,
)

EXAMPLE_DIR = Path(__file__).resolve().parent.parent
# How long after SIGTERM the worker must have exited: well under its 20 s long poll and
# its 5 s pause after a failed receive, which SIGTERM cuts short.
STOP_WITHIN_S = 3.0


def _python(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ...`` as an ECS task would: its own process, configured by env."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=EXAMPLE_DIR,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _create_note(client: TestClient, body: str) -> dict[str, Any]:
    response = client.post("/api/notes", json={"body": body})
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


def _processed_at(client: TestClient, note_id: int) -> str | None:
    # The list is never cached, so it shows what Postgres holds.
    found = [note for note in client.get("/api/notes").json() if note["id"] == note_id]
    assert len(found) == 1
    processed_at: str | None = found[0]["processed_at"]
    return processed_at


def _mail_containing(aws_account: AwsAccount, marker: str) -> list[dict[str, Any]]:
    # The session shares one account; a marker in the note's body picks out its mail.
    return [sent for sent in aws_account.sent_mail() if marker in sent["BodyText"]]


def _queue_counts(aws_account: AwsAccount, url: str) -> tuple[int, int]:
    """(visible, in flight) messages on the queue."""
    attributes = aws_account.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


@pytest.mark.integration
def test_worker_processes_a_job(
    client: TestClient, app_env: dict[str, str], aws_account: AwsAccount, queues: Queues
) -> None:
    marker = uuid.uuid4().hex
    note = _create_note(client, f"note {marker}")

    assert worker.process_batch(wait_s=1) == BatchResult(received=1, done=1, failed=0)

    assert _processed_at(client, note["id"]) is not None
    sent = _mail_containing(aws_account, marker)
    assert len(sent) == 1
    assert sent[0]["Source"] == app_env["MAIL_FROM"]
    assert sent[0]["To"] == [mail.SIMULATOR_SUCCESS]
    assert sent[0]["Subject"] == f"Note {note['id']} processed"
    # Deleted after success: nothing waiting, nothing in flight.
    assert _queue_counts(aws_account, queues.url) == (0, 0)


@pytest.mark.integration
def test_redelivered_job_mails_once(
    client: TestClient, app_env: dict[str, str], aws_account: AwsAccount, queues: Queues
) -> None:
    marker = uuid.uuid4().hex
    note = _create_note(client, f"note {marker}")
    assert worker.process_batch(wait_s=1).done == 1
    # SQS delivers at least once: the same job again finds the note processed.
    aws_account.client("sqs").send_message(
        QueueUrl=queues.url, MessageBody=json.dumps({"note_id": note["id"]})
    )
    assert worker.process_batch(wait_s=1) == BatchResult(received=1, done=1, failed=0)
    assert len(_mail_containing(aws_account, marker)) == 1
    assert _queue_counts(aws_account, queues.url) == (0, 0)


@pytest.mark.integration
def test_failed_job_stays_on_the_queue(
    client: TestClient,
    app_env: dict[str, str],
    aws_account: AwsAccount,
    queues: Queues,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = uuid.uuid4().hex
    note = _create_note(client, f"note {marker}")
    # SES refuses a sender outside the verified domain (MessageRejected).
    monkeypatch.setenv("MAIL_FROM", "no-reply@unverified.invalid")

    assert worker.process_batch(wait_s=1) == BatchResult(received=1, done=0, failed=1)
    # The mail failed, so marking the note processed rolled back with it.
    assert _processed_at(client, note["id"]) is None
    assert _mail_containing(aws_account, marker) == []
    assert _queue_counts(aws_account, queues.url) == (0, 1)  # not deleted: in flight

    # Visible again once the visibility timeout has passed, and then it succeeds.
    time.sleep(VISIBILITY_TIMEOUT_S + 0.2)
    monkeypatch.setenv("MAIL_FROM", app_env["MAIL_FROM"])
    assert worker.process_batch(wait_s=1) == BatchResult(received=1, done=1, failed=0)
    assert _processed_at(client, note["id"]) is not None
    assert len(_mail_containing(aws_account, marker)) == 1


@pytest.mark.integration
def test_bad_message_moves_to_the_dead_letter_queue(
    app_env: dict[str, str], aws_account: AwsAccount, queues: Queues
) -> None:
    sqs = aws_account.client("sqs")
    sqs.send_message(QueueUrl=queues.url, MessageBody="not a job")
    for _receive in range(MAX_RECEIVES):
        assert worker.process_batch(wait_s=1) == BatchResult(received=1, done=0, failed=1)
        time.sleep(VISIBILITY_TIMEOUT_S + 0.2)
    # Received MAX_RECEIVES times without a delete: SQS moved it to the DLQ.
    assert worker.process_batch(wait_s=0).received == 0
    dead = sqs.receive_message(QueueUrl=queues.dlq_url, WaitTimeSeconds=1)
    assert [message["Body"] for message in dead.get("Messages", [])] == ["not a job"]


@pytest.mark.integration
def test_worker_once_as_a_process(
    client: TestClient, app_env: dict[str, str], aws_account: AwsAccount
) -> None:
    marker = uuid.uuid4().hex
    note = _create_note(client, f"note {marker}")
    result = _python("-m", "app.worker", "--once")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"note {note['id']}: processed" in result.stdout
    assert _processed_at(client, note["id"]) is not None
    assert len(_mail_containing(aws_account, marker)) == 1


class _Running:
    """The worker as a process, its output read by a thread so waits can time out."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.worker"],
            cwd=EXAMPLE_DIR,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in the worker's output:\n{self.output}"
            try:
                self.output += self.lines.get(timeout=remaining)
            except queue.Empty:
                continue

    def stop(self) -> float:
        """Send SIGTERM; return how long the worker took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=STOP_WITHIN_S)
        took = time.monotonic() - sent
        self.wait_for("worker stopped")
        return took

    def close(self) -> None:
        """Kill the worker if it still runs, and release its pipe."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=5)  # the pipe is at EOF once the process is gone
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.mark.integration
def test_worker_stops_on_sigterm(app_env: dict[str, str]) -> None:
    running = _Running()
    try:
        # Long-polling an empty queue, as an idle task in ECS is.
        running.wait_for("worker polling")
        time.sleep(0.3)
        took = running.stop()
    finally:
        running.close()
    assert running.process.returncode == 0, running.output
    assert "SIGTERM: stopping" in running.output
    # Far sooner than the 20 s poll would have ended by itself.
    assert took < STOP_WITHIN_S


@pytest.mark.integration
def test_worker_survives_an_sqs_outage(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with refusing_port() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        running = _Running()
        try:
            # It logs the failed receive and pauses instead of crashing the task, and
            # SIGTERM still ends the pause at once.
            running.wait_for("receive failed; retrying")
            took = running.stop()
        finally:
            running.close()
    assert running.process.returncode == 0, running.output
    assert took < STOP_WITHIN_S


@pytest.mark.integration
def test_worker_without_its_queue_fails_at_start(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUEUE_URL_JOBS")
    result = _python("-m", "app.worker", "--once")
    assert result.returncode != 0
    assert "QUEUE_URL_JOBS is not set" in result.stderr


@pytest.mark.integration
def test_nightly_deletes_old_notes(db_env: dict[str, str], postgres: PostgresServer) -> None:
    # Only the database's settings, as the scheduled task has. On a new database it
    # creates the schema and has nothing to delete.
    first = _python("-m", "app.nightly")
    assert first.returncode == 0, first.stderr
    assert "nightly: deleted 0 notes older than 30 days" in first.stdout

    with psycopg.connect(postgres.conninfo(db_env["DB_NAME"])) as conn:
        conn.execute(
            "INSERT INTO notes (body, created_at) VALUES"
            " ('stale', now() - interval '31 days'), ('fresh', now() - interval '29 days')"
        )
    second = _python("-m", "app.nightly")
    assert second.returncode == 0, second.stderr
    assert "nightly: deleted 1 notes older than 30 days" in second.stdout
    with psycopg.connect(postgres.conninfo(db_env["DB_NAME"])) as conn:
        left = conn.execute("SELECT body FROM notes").fetchall()
    assert left == [("fresh",)]

    shorter = _python("-m", "app.nightly", "--days", "7")
    assert shorter.returncode == 0, shorter.stderr
    assert "nightly: deleted 1 notes older than 7 days" in shorter.stdout
