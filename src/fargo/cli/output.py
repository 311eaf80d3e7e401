"""Progress on a terminal: a live table of resources on a TTY, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from fargo.aws.cloudformation import StackEvent

_STYLE = {"COMPLETE": "green", "IN_PROGRESS": "yellow", "FAILED": "red"}


def _style(status: str) -> str:
    if "ROLLBACK" in status or status.endswith("FAILED"):
        return "red"
    for suffix, style in _STYLE.items():
        if status.endswith(suffix):
            return style
    return "white"


class PlainReporter:
    """One line per event: for CI logs and pipes."""

    def __init__(self, stream: TextIO | None = None, *, start: float | None = None) -> None:
        """`start`: the `time.monotonic()` the lines count from (default: now)."""
        self._stream = stream or sys.stderr
        self._start = time.monotonic() if start is None else start

    def _line(self, text: str) -> None:
        print(f"[{time.monotonic() - self._start:6.1f}s] {text}", file=self._stream, flush=True)

    def note(self, text: str) -> None:
        self._line(text)

    def stack_started(self, stack: str, action: str) -> None:
        self._line(f"{stack}: {action} started")

    def stack_event(self, stack: str, event: StackEvent) -> None:
        reason = f" - {event.reason}" if event.reason and event.failed else ""
        self._line(f"{stack}: {event.logical_id} {event.status}{reason}")

    def stack_finished(self, stack: str, status: str) -> None:
        self._line(f"{stack}: {status}")


class LiveReporter:
    """A table that updates in place: one row per resource, its latest status and reason."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._rows: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._live: Live | None = None

    def note(self, text: str) -> None:
        self._console.print(f"[dim]{text}[/dim]")

    def stack_started(self, stack: str, action: str) -> None:
        self._console.print(f"[bold]{stack}[/bold]: {action}")
        self._rows = {}
        self._live = Live(self._table(), console=self._console, refresh_per_second=8)
        self._live.start()

    def stack_event(self, stack: str, event: StackEvent) -> None:
        if event.logical_id == stack:
            return
        reason = event.reason if event.failed else ""
        self._rows[(stack, event.logical_id)] = (event.resource_type, event.status, reason)
        if self._live is not None:
            self._live.update(self._table())

    def stack_finished(self, stack: str, status: str) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.stop()
            self._live = None
        self._console.print(f"[bold]{stack}[/bold]: [{_style(status)}]{status}[/]")

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, padding=(0, 1))
        for (_, logical_id), (kind, status, reason) in self._rows.items():
            table.add_row(
                logical_id, f"[dim]{kind}[/dim]", f"[{_style(status)}]{status}[/]", reason
            )
        return table
