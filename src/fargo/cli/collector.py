"""Python's cyclic garbage collector: paused while a short command runs, and spared its
last walk over every object when the process exits.

A command such as `render` imports pydantic and troposphere, builds the manifest's
validator and the templates, prints them and exits: almost everything it allocates lives
until the end. The collector still ran some 85 times along the way (once every 700
allocations), found next to nothing, and cost about 10 ms, a twentieth of the command.
Reference counting still frees what a short command drops; only cycles wait, and the
process ends before they matter. Long commands (deploy, which waits on AWS for minutes)
keep the collector running.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off inside, and back as it was after (tests run commands in-process)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was allocated inside is still in the youngest generation; the first
        # collection after would scan it all (~10 ms). Freezing then unfreezing moves it to
        # the oldest generation instead, unscanned, where a full collection still frees
        # any cycle in it. (fargo freezes nothing else that unfreezing could release.)
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def spare_the_exit_collection() -> None:
    """Called when the command is done and the process is about to exit. The interpreter's
    shutdown collects, walking every object the imports made (some 70,000 after render's),
    to free memory the exit returns to the system anyway: 20-25 ms after render. Frozen
    objects are not walked. What that skips is the `__del__` of objects left in unreachable
    cycles, which Python never promises to run at exit; atexit handlers still run, and the
    standard streams are still flushed."""
    gc.freeze()
