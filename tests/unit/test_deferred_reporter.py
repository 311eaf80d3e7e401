"""The terminal reporter is made at the first report, once, and its plain lines still
count from the command's start."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

from fargo.aws.cloudformation import StackEvent
from fargo.cli.deferred import DeferredReporter
from fargo.cli.output import PlainReporter
from fargo.progress import Reporter


def test_nothing_is_made_until_the_first_report_and_then_once() -> None:
    stream = io.StringIO()
    made: list[Reporter] = []

    def make() -> Reporter:
        made.append(PlainReporter(stream))
        return made[-1]

    reporter = DeferredReporter(make)
    assert made == []  # a command that reports nothing never builds the table
    reporter.stack_started("app-network", "update")
    event = StackEvent(
        "1", datetime.now(UTC), "Vpc", "AWS::EC2::VPC", "UPDATE_FAILED", "quota", "vpc-1"
    )
    reporter.stack_event("app-network", event)
    reporter.note("waiting")
    reporter.stack_finished("app-network", "UPDATE_ROLLBACK_COMPLETE")
    assert len(made) == 1
    lines = [line.split("] ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines == [
        "app-network: update started",
        "app-network: Vpc UPDATE_FAILED - quota",
        "waiting",
        "app-network: UPDATE_ROLLBACK_COMPLETE",
    ]


def test_plain_lines_count_from_the_start_they_are_given() -> None:
    stream = io.StringIO()
    PlainReporter(stream, start=time.monotonic() - 12.0).note("later")
    seconds = float(stream.getvalue().split("s]")[0].strip("[ "))
    assert 12.0 <= seconds < 60.0
