"""Data stack: everything that holds data. Each builder returns the logical ids it made that
must never be replaced or deleted; they become the stack policy."""

from __future__ import annotations

from troposphere import GetAtt, Template, sqs

from fargo.model.app import App, StackKind
from fargo.synth import outputs as out
from fargo.synth.buckets import add_bucket
from fargo.synth.cache import add_cache
from fargo.synth.common import Inputs, add, finish, new_template, output
from fargo.synth.database import add_database
from fargo.synth.mail import add_mail
from fargo.synth.queues import add_queue, skip_sse_false_positive
from fargo.synth.stack import StackTemplate


def synth_data(app: App) -> StackTemplate:
    template = new_template(app, StackKind.DATA, "database, cache, queues, buckets and mail")
    inputs = Inputs(template)
    protected: list[str] = []
    if app.database is not None:
        protected += add_database(template, app, app.database, inputs)
    if app.cache is not None:
        protected += add_cache(template, app, app.cache, inputs)
    for queue in app.queues:
        protected += add_queue(template, app, queue)
    for bucket in app.buckets:
        protected += add_bucket(template, app, bucket)
    if app.mail is not None:
        protected += add_mail(template, app, app.mail)
    if any(s.kind == "job" for s in app.services):
        _schedule_dead_letters(template)
    return finish(
        template,
        app,
        StackKind.DATA,
        inputs.values,
        protected=tuple(protected),
        termination_protection=app.termination_protection,
    )


def _schedule_dead_letters(template: Template) -> None:
    """Scheduled runs that EventBridge Scheduler could not start, kept for inspection."""
    queue = add(
        template,
        sqs.Queue("ScheduleDeadLetter", SqsManagedSseEnabled=True, MessageRetentionPeriod=1209600),
        "scheduled runs that could not be started after retries",
    )
    queue.DeletionPolicy = "Retain"  # failed runs are evidence; kept like every queue
    queue.UpdateReplacePolicy = "Retain"
    skip_sse_false_positive(queue)
    output(template, out.SCHEDULE_DEAD_LETTER_ARN, GetAtt(queue, "Arn"))
