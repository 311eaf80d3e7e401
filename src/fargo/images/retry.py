"""When and how long to wait before sending a registry request again."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# 501 means the registry lacks the feature: asking again cannot help.
_NOT_IMPLEMENTED = 501


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, a bounded number of attempts.

    Full jitter (a random wait between 0 and the exponential cap) keeps the parallel
    upload threads from hitting a struggling registry again in lockstep.
    """

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def wait(self, attempt: int, response: httpx.Response | None = None) -> None:
        """Sleep before attempt number `attempt + 1` (attempt counts from 1)."""
        cap = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        delay = self.jitter() * cap
        asked = retry_after(response) if response is not None else None
        if asked is not None:
            delay = max(delay, min(asked, self.max_delay))
        self.sleep(delay)


def retryable(response: httpx.Response) -> bool:
    """A throttle or a server-side failure: another try may well succeed."""
    code = response.status_code
    return code == httpx.codes.TOO_MANY_REQUESTS or (code >= 500 and code != _NOT_IMPLEMENTED)


def retry_after(response: httpx.Response) -> float | None:
    """The Retry-After seconds of a 429 or 503, when given as a number."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
