"""Polling helpers for tests that watch real processes."""

from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 30.0, every: float = 0.2):
    """The first truthy value of predicate(), or AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not reached in time")
