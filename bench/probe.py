"""ReactorProbe: a Scrapy extension measuring how long the reactor goes without running.

A LoopingCall ticks every 10 ms; any gap between ticks beyond that is time in which
the reactor could not run anything (a blocking callback, a long parse, GIL starvation).
Enable it for one run without touching the project's settings:

    scrapy crawl sitemap ... -s EXTENSIONS='{..., "bench.probe.ReactorProbe": 0}' \
        -s BENCH_PROBE_FILE=probe.json

At engine stop it writes JSON: max_stall_ms, stalls_over_100ms, ticks and the worst stalls
(when each ended, in ms since the engine started, and its length).
"""

from __future__ import annotations

import heapq
import json
import time
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

INTERVAL = 0.01
WORST_KEPT = 10
LONG_STALL = 0.1


class ReactorProbe:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.loop = task.LoopingCall(self._tick)
        self.started = 0.0
        self.last = 0.0
        self.ticks = 0
        self.long_stalls = 0
        self.worst: list[tuple[float, float]] = []  # min-heap of (stall, at)

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("BENCH_PROBE_FILE")
        if not path:
            raise NotConfigured("BENCH_PROBE_FILE is not set")
        probe = cls(Path(path))
        crawler.signals.connect(probe.engine_started, signal=signals.engine_started)
        crawler.signals.connect(probe.engine_stopped, signal=signals.engine_stopped)
        return probe

    def engine_started(self) -> None:
        self.started = self.last = time.monotonic()
        self.loop.start(INTERVAL, now=False)

    def engine_stopped(self) -> None:
        if self.loop.running:
            self.loop.stop()
        worst = sorted(self.worst, reverse=True)
        self.path.write_text(
            json.dumps(
                {
                    "max_stall_ms": round(worst[0][0] * 1000, 1) if worst else 0.0,
                    "stalls_over_100ms": self.long_stalls,
                    "ticks": self.ticks,
                    "worst": [
                        {"at_ms": round(at * 1000), "stall_ms": round(stall * 1000, 1)}
                        for stall, at in worst
                    ],
                }
            )
        )

    def _tick(self) -> None:
        now = time.monotonic()
        stall = now - self.last - INTERVAL
        self.last = now
        self.ticks += 1
        if stall > LONG_STALL:
            self.long_stalls += 1
        entry = (stall, now - self.started)
        if len(self.worst) < WORST_KEPT:
            heapq.heappush(self.worst, entry)
        elif stall > self.worst[0][0]:
            heapq.heapreplace(self.worst, entry)
