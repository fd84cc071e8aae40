from __future__ import annotations

import gc
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess
from scrapy.exceptions import UsageError

from scrapersky.arguments import parse_run_arguments
from scrapersky.config import ConfigError, check_settings
from scrapersky.db.schema import ensure_schema
from scrapersky.redact import redact_logs

# A job failed, or was cancelled by the run ending early, or rows were lost.
FAILURE_STATS = (
    "scrapersky/jobs/failed",
    "scrapersky/jobs/cancelled",
    "scrapersky/store/lost_rows",
)


class Command(ScrapyCrawl):
    """`scrapy crawl`, plus: bad arguments or database settings give a one-line error and exit 2
    before anything runs, and the exit code is 1 when any scan of the run failed."""

    # The crawler process is made after the checks, so a bad argument prints one line, not a log.
    requires_crawler_process = False

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        settings = self.settings
        try:
            check_settings(settings)
            if args[0] == "sitemap":
                parse_run_arguments(opts.spargs, settings.get("SCRAPERSKY_DEFAULT_TENANT"))
            ensure_schema(settings.get("DATABASE_URL"))
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        self.crawler_process = _crawler_process(settings)
        redact_logs()  # the process has installed Scrapy's log handler by now
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        # What is loaded by now lives for the whole run: full collections would re-scan those
        # hundreds of thousands of objects every time, stalling the reactor for ~60 ms each.
        gc.freeze()
        # Listed URLs stay alive a while (a chunk fills, then waits for the pipeline): with the
        # default threshold of 700 they are promoted and trigger a full collection every second.
        gc.set_threshold(50_000, 20, 100)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        # The crawler's stats are the run's one record of how its jobs ended.
        if any(crawler.stats.get_value(key) for key in FAILURE_STATS):
            self.exitcode = 1


def _crawler_process(settings):
    """The same choice `scrapy.cmdline` makes for commands that need a crawler process."""
    asyncio_reactor = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
    if (
        settings["TWISTED_REACTOR"] == asyncio_reactor
        and not settings.getbool("FORCE_CRAWLER_PROCESS")
    ) or not settings.getbool("TWISTED_REACTOR_ENABLED"):
        return AsyncCrawlerProcess(settings)
    return CrawlerProcess(settings)
