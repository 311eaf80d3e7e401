"""The `jobs` queue (SQS): what a job message holds, and how the API enqueues one.

fargo injects the queue's URL as QUEUE_URL_JOBS into every service that uses it. The
worker consumes it; after the queue's max receives a failing message moves to its DLQ.
"""

from pydantic import BaseModel

from app import aws


class Job(BaseModel):
    """One job: process the note ``note_id``. The message body is this as JSON."""

    note_id: int


def queue_url() -> str:
    return aws.require("QUEUE_URL_JOBS", "the service must use: [jobs]")


def enqueue(note_id: int) -> str:
    """Send a job for ``note_id``; return SQS's message id."""
    sent = aws.sqs().send_message(
        QueueUrl=queue_url(), MessageBody=Job(note_id=note_id).model_dump_json()
    )
    return sent["MessageId"]
