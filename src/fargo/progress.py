"""What long operations tell the user. The library calls a Reporter; the CLI decides how to
show it (a live table on a TTY, plain lines otherwise, nothing but the result with --json)."""

from __future__ import annotations

from typing import Protocol

from fargo.aws.cloudformation import StackEvent


class Reporter(Protocol):
    def note(self, text: str) -> None:
        """A one-line remark: a wait starting, a step skipped and why."""

    def stack_started(self, stack: str, action: str) -> None:
        """An operation (create, update, delete) on `stack` began."""

    def stack_event(self, stack: str, event: StackEvent) -> None:
        """A resource in `stack` changed state."""

    def stack_finished(self, stack: str, status: str) -> None:
        """The operation on `stack` reached a final status."""


class SilentReporter:
    """Reports nothing: for --json runs and tests."""

    def note(self, text: str) -> None:
        del text

    def stack_started(self, stack: str, action: str) -> None:
        del stack, action

    def stack_event(self, stack: str, event: StackEvent) -> None:
        del stack, event

    def stack_finished(self, stack: str, status: str) -> None:
        del stack, status
