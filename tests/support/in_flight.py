"""Count the requests a fixture site has in progress at once, to observe a client's concurrency cap."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.support.fixture_web import Reply, Request


class InFlight:
    """Wraps fixture routes. Each request is held until `expected` are in progress together (or
    all `total` have arrived), so the client's cap is always reached when it allows it; each is
    then held a moment longer, so requests beyond the cap are in progress alongside and counted."""

    def __init__(
        self, expected: int, total: int, linger: float = 0.3, timeout: float = 60.0
    ) -> None:
        self.expected, self.total, self.linger, self.timeout = expected, total, linger, timeout
        self.active = self.arrived = self.peak = 0
        self._changed = threading.Condition()

    def route(self, reply: Reply) -> Callable[[Request], Reply]:
        def handle(request: Request) -> Reply:
            with self._changed:
                self.active += 1
                self.arrived += 1
                self.peak = max(self.peak, self.active)
                self._changed.notify_all()
                self._changed.wait_for(
                    lambda: self.active >= self.expected or self.arrived >= self.total,
                    timeout=self.timeout,
                )
            time.sleep(self.linger)
            with self._changed:
                self.active -= 1
            return reply

        return handle
