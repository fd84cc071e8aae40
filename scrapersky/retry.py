"""Waiting between attempts at something that may answer in a moment: the database, a Scrapyd node."""

from __future__ import annotations

import math
import time


class Backoff:
    """The waits before each retry: `first` seconds, then twice the last, at most `cap`.

    `next_delay()` gives None when it is time to give up: `retries` retries were used, or
    the wait would end more than `within` seconds after the Backoff was made.
    """

    def __init__(
        self,
        first: float,
        *,
        cap: float = math.inf,
        retries: int | None = None,
        within: float | None = None,
    ) -> None:
        self.delay = first
        self.cap = cap
        self.retries_left = retries
        self.deadline = None if within is None else time.monotonic() + within

    def next_delay(self) -> float | None:
        if self.retries_left is not None:
            if self.retries_left <= 0:
                return None
            self.retries_left -= 1
        delay = min(self.delay, self.cap)
        if self.deadline is not None and time.monotonic() + delay > self.deadline:
            return None
        self.delay = delay * 2
        return delay
