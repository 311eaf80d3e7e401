"""AWS answered by botocore's Stubber, on a clock that takes no time: polls and backoffs
run at once, and what they waited is recorded. The `time` and `aws` fixtures are in
tests/unit/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.stub import Stubber

from fargo.aws.facade import Aws


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@contextmanager
def stubbed(aws: Aws, service: str) -> Iterator[Stubber]:
    """The facade's client of `service` answered only by what the test queues: a call it
    did not expect, or in another order, fails; so does an answer left unused."""
    with Stubber(aws.client(service)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
