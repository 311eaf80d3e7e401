"""SQS queues, each with server-side encryption and a dead-letter queue."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Template, sqs

from fargo.model.app import App, Queue
from fargo.synth import outputs as out
from fargo.synth.common import add, output, skip_check
from fargo.synth.ids import logical_id

_DLQ_RETENTION_SECONDS = 14 * 86_400  # the most SQS keeps: time to look at what failed


def add_queue(template: Template, app: App, queue: Queue) -> list[str]:
    """Returns the logical ids that hold data."""
    prefix = f"Queue{logical_id(queue.name)}"
    suffix = ".fifo" if queue.fifo else ""
    fifo = {"FifoQueue": True} if queue.fifo else {}
    # FIFO queues must be named (".fifo"); standard ones are named by CloudFormation.
    names = (
        (
            {"QueueName": f"{app.name}-{app.env}-{queue.name}{suffix}"},
            {"QueueName": f"{app.name}-{app.env}-{queue.name}-dlq{suffix}"},
        )
        if queue.fifo
        else ({}, {})
    )
    dead = add(
        template,
        sqs.Queue(
            f"{prefix}DeadLetter",
            SqsManagedSseEnabled=True,
            MessageRetentionPeriod=_DLQ_RETENTION_SECONDS,
            **fifo,
            **names[1],
        ),
        f"messages of {queue.name} that failed {queue.max_receives} times",
    )
    main = add(
        template,
        sqs.Queue(
            prefix,
            SqsManagedSseEnabled=True,
            VisibilityTimeout=queue.visibility_seconds,
            MessageRetentionPeriod=queue.retention_seconds,
            RedrivePolicy=sqs.RedrivePolicy(
                deadLetterTargetArn=GetAtt(dead, "Arn"), maxReceiveCount=queue.max_receives
            ),
            **fifo,
            **names[0],
        ),
        f"queue {queue.name}",
    )
    for resource in (main, dead):
        resource.DeletionPolicy = "Retain"
        resource.UpdateReplacePolicy = "Retain"
        skip_sse_false_positive(resource)
    output(template, out.queue_url(queue.name), Ref(main))
    output(template, out.queue_arn(queue.name), GetAtt(main, "Arn"))
    output(template, out.queue_name(queue.name), GetAtt(main, "QueueName"))
    output(template, out.queue_dead_letter_arn(queue.name), GetAtt(dead, "Arn"))
    output(template, out.queue_dead_letter_name(queue.name), GetAtt(dead, "QueueName"))
    return [main.title, dead.title]


def skip_sse_false_positive(queue: sqs.Queue) -> None:
    skip_check(
        queue,
        "CKV_AWS_27",
        "encrypted at rest with SQS-managed keys (SqsManagedSseEnabled); checkov's "
        "CloudFormation check only accepts KmsMasterKeyId (bridgecrewio/checkov#7381)",
    )
