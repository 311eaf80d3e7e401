"""Writes whose answer may be lost: settled by reading the state back, not by failing.

The SDK retries a write whose answer was lost (the connection closed after the request went
out). The retry meets what the first attempt did: AWS honours the client token where the API
takes one, and where it takes none the retry may answer "already exists" or "already
executed". And when the answer is lost on every attempt, only the state can say whether the
write happened. So each write names how to read its effect back (`landed`): that is asked
when the answer was lost, or when AWS said the write was already done, and what it finds is
the result. A write that did not land is sent once more, with the same token.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar

from fargo.aws.errors import RESPONSE_LOST
from fargo.errors import AwsError

T = TypeVar("T")

# One more round of the SDK's own attempts when the state shows the write did not land.
_ROUNDS = 2


def settle(
    write: Callable[[], T],
    landed: Callable[[], T | None],
    *,
    done_codes: Collection[str] = (),
) -> T:
    """`write`'s result, or what `landed` reads back when its answer was lost, or when AWS
    answered one of `done_codes` (the write, or a retry of it, had already taken effect).

    `landed` returns None while the write's effect is not there; it must check that what is
    there is what was asked (our change set, our token), not just that something is."""
    error: AwsError | None = None
    for _ in range(_ROUNDS):
        try:
            return write()
        except AwsError as failed:
            if failed.code != RESPONSE_LOST and failed.code not in done_codes:
                raise
            error = failed
        found = landed()
        if found is not None:
            return found
        if error.code != RESPONSE_LOST:
            raise error
    assert error is not None  # noqa: S101 - the loop ran and every round failed
    raise error
