"""FirstRequest: a Scrapy extension that notes when the first request reaches the downloader, then
stops the crawl (bench.startup).

It writes `time.monotonic()` (one clock for every process on the machine) to
BENCH_FIRST_REQUEST_FILE when Scrapy's `request_reached_downloader` fires for the first time: the
request has left the engine and passed the downloader middlewares. The crawl is then shut down as
Scrapy's own stop does (reason `shutdown`).

A top-level module in a directory of its own, which bench.startup puts on PYTHONPATH: the baseline
tree's bench package does not have it, and importing the bench package would add its own imports
to the time measured.
"""

from __future__ import annotations

import time
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro


class FirstRequest:
    def __init__(self, crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path
        self.seen = False

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("BENCH_FIRST_REQUEST_FILE")
        if not path:
            raise NotConfigured("BENCH_FIRST_REQUEST_FILE is not set")
        extension = cls(crawler, Path(path))
        crawler.signals.connect(extension.reached, signal=signals.request_reached_downloader)
        return extension

    def reached(self, request, spider) -> None:
        if self.seen:
            return
        self.seen = True
        self.path.write_text(f"{time.monotonic()!r} {request.url}\n")
        deferred_from_coro(self.crawler.stop_async())
