"""Trying again what may answer in a moment (the database, a Scrapyd node): one backoff rule,
and one retry loop in a sync and an async form.

The caller says which of its errors are transient (`db.errors.is_transient` for the database,
connection errors and 5xx for a node); any other error is raised at once, never retried. When
the backoff gives up, the last transient error is raised: the caller tells "refused" from
"gave up" by asking its `is_transient` again.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
# Told of each retry before its wait: the error, the seconds about to be waited.
OnRetry = Callable[[Exception, float], None]


def delay_after(
    failures: int, first: float, *, factor: float = 2.0, cap: float = math.inf
) -> float:
    """The wait after the `failures`-th failure in a row: `first` seconds, then `factor` times
    the last, at most `cap`. Webhook deliveries use it as a schedule (their next attempt time)."""
    return min(first * factor ** (failures - 1), cap)


class Backoff:
    """The waits before each retry, by `delay_after`: `first` seconds, then twice the last, at
    most `cap`.

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
        self.first = first
        self.cap = cap
        self.retries = retries
        self.used = 0
        self.deadline = None if within is None else time.monotonic() + within

    def next_delay(self) -> float | None:
        if self.retries is not None and self.used >= self.retries:
            return None
        delay = delay_after(self.used + 1, self.first, cap=self.cap)
        if self.deadline is not None and time.monotonic() + delay > self.deadline:
            return None
        self.used += 1
        return delay


def retry_call(
    fn: Callable[[], T],
    *,
    is_transient: Callable[[Exception], bool],
    backoff: Backoff,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """fn(), tried again after each transient error while `backoff` allows."""
    while True:
        try:
            return fn()
        except Exception as exc:
            delay = _wait_after(exc, is_transient, backoff, on_retry)
            if delay is None:
                raise
        sleep(delay)


async def retry_async(
    fn: Callable[[], Awaitable[T]],
    *,
    is_transient: Callable[[Exception], bool],
    backoff: Backoff,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """await fn(), tried again after each transient error while `backoff` allows; the waits do
    not block the event loop."""
    while True:
        try:
            return await fn()
        except Exception as exc:
            delay = _wait_after(exc, is_transient, backoff, on_retry)
            if delay is None:
                raise
        await sleep(delay)


def _wait_after(
    exc: Exception,
    is_transient: Callable[[Exception], bool],
    backoff: Backoff,
    on_retry: OnRetry | None,
) -> float | None:
    """The wait before the next attempt, or None: raise `exc` (not transient, or no retry left)."""
    delay = backoff.next_delay() if is_transient(exc) else None
    if delay is not None and on_retry is not None:
        on_retry(exc, delay)
    return delay
