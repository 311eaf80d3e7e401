"""A reporter made when the first report comes. A command that reports nothing (`status`)
never imports the terminal's live table (rich), which takes longer to import than such a
command takes to run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fargo.aws.cloudformation import StackEvent
    from fargo.progress import Reporter


class DeferredReporter:
    """Calls `make` on the first report, then passes every report to what it made."""

    def __init__(self, make: Callable[[], Reporter]) -> None:
        self._make = make
        self._made: Reporter | None = None

    def _reporter(self) -> Reporter:
        if self._made is None:
            self._made = self._make()
        return self._made

    def note(self, text: str) -> None:
        self._reporter().note(text)

    def stack_started(self, stack: str, action: str) -> None:
        self._reporter().stack_started(stack, action)

    def stack_event(self, stack: str, event: StackEvent) -> None:
        self._reporter().stack_event(stack, event)

    def stack_finished(self, stack: str, status: str) -> None:
        self._reporter().stack_finished(stack, status)
