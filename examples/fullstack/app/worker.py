"""The queue worker: ``python -m app.worker`` (``--once`` for a single batch).

For each job on the `jobs` queue it marks the note processed in Postgres and mails a
notice through SES, then deletes the message. A job that fails is left on the queue: it
comes back after the visibility timeout, and after the queue's max receives SQS moves it
to the dead-letter queue. Jobs may arrive twice (SQS delivers at least once); a note
already processed is skipped.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

import psycopg

from app import aws, jobs, mail, migrate, notes

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger("app.worker")

# SQS's longest poll: fewest empty receives (each one is billed) and the quickest
# pickup. The client's read timeout (app.aws) is longer.
LONG_POLL_S = 20
# SQS's largest batch.
BATCH_SIZE = 10
# Pause after a failed receive (SQS unreachable), so the log is not flooded.
RECEIVE_BACKOFF_S = 5


@dataclass(frozen=True)
class BatchResult:
    """What one batch did: messages received, jobs done (and deleted), jobs failed."""

    received: int
    done: int
    failed: int


def handle(body: str) -> None:
    """Run one job; raise if it failed, so its message stays on the queue."""
    job = jobs.Job.model_validate_json(body)

    def work(conn: psycopg.Connection) -> None:
        note = notes.mark_processed(conn, job.note_id)
        if note is None:
            # Processed by an earlier delivery, deleted since, or its insert rolled back
            # after the job was sent: nothing to do, and nothing to retry.
            log.info("note %s: nothing to do", job.note_id)
            return
        # Mailed inside the transaction: if SES refuses, processed_at rolls back and a
        # retry mails again. Only a commit failing after the send can mail twice.
        message_id = mail.send(
            f"Note {note.id} processed", f"Note {note.id} was processed:\n\n{note.body[:500]}"
        )
        log.info("note %s: processed, mail %s", note.id, message_id)

    migrate.with_schema(work)


def receive(queue_url: str, wait_s: int) -> list[MessageTypeDef]:
    """Long-poll for up to a batch of messages; an empty list when none came."""
    received = aws.sqs().receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=BATCH_SIZE, WaitTimeSeconds=wait_s
    )
    return received.get("Messages", [])


def process(queue_url: str, messages: list[MessageTypeDef]) -> BatchResult:
    """Run each message's job, deleting the message only once its job succeeded."""
    done = failed = 0
    for message in messages:
        try:
            handle(message["Body"])
        except Exception:
            # Any failure, a bad message included: leave it for the retry and the DLQ.
            log.exception("message %s failed; it stays on the queue", message["MessageId"])
            failed += 1
            continue
        aws.sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        done += 1
    return BatchResult(len(messages), done, failed)


def process_batch(wait_s: int = LONG_POLL_S) -> BatchResult:
    """Receive one batch (waiting up to ``wait_s`` seconds) and process it."""
    queue_url = jobs.queue_url()
    return process(queue_url, receive(queue_url, wait_s))


class _Stop(BaseException):
    """Raised by the signal handler to abandon an idle wait.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` in boto3
    or here swallows it.
    """


class Worker:
    """The long-running loop, stopped gracefully by SIGTERM (how ECS stops a task)."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.stopping = False
        # True while waiting on SQS or backing off, when no job is in hand.
        self.idle = False

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping after the current batch", signal.Signals(signum).name)
        self.stopping = True
        if self.idle:
            # Interrupting a long poll loses nothing: a message SQS handed over in that
            # instant becomes visible again after the visibility timeout. Waiting out a
            # 20 s poll would eat most of ECS's 30 s stop timeout.
            raise _Stop

    def run(self) -> None:
        while True:
            try:
                self.idle = True
                # Checked once `idle` is set: a signal from here on interrupts the wait.
                if self.stopping:
                    return
                messages = self._receive()
            except _Stop:
                return
            finally:
                self.idle = False
            process(self.queue_url, messages)

    def _receive(self) -> list[MessageTypeDef]:
        """The next batch; after a failed receive (SQS unreachable), a pause and none."""
        try:
            return receive(self.queue_url, LONG_POLL_S)
        except aws.BOTO_ERRORS:
            log.exception("receive failed; retrying in %s s", RECEIVE_BACKOFF_S)
            time.sleep(RECEIVE_BACKOFF_S)
            return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.worker", description=__doc__)
    parser.add_argument(
        "--once", action="store_true", help="process one batch, then exit (1 if a job failed)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stdout, format="%(levelname)s %(name)s: %(message)s"
    )
    # Fail at start, not on the first job, when the task lacks its queue or sender.
    queue_url = jobs.queue_url()
    mail.sender()
    if args.once:
        result = process_batch()
        log.info("batch: %s", result)
        return 1 if result.failed else 0
    worker = Worker(queue_url)
    signal.signal(signal.SIGTERM, worker.on_signal)
    signal.signal(signal.SIGINT, worker.on_signal)
    log.info("worker polling %s", queue_url)
    worker.run()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
