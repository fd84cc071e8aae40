from __future__ import annotations

import gc
import logging
import sys

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawl

from scrapersky.config import check_settings
from scrapersky.config.arguments import parse_run_arguments
from scrapersky.core.errors import WORK_FAILED, ScraperSkyError
from scrapersky.core.exit import skip_final_collections
from scrapersky.core.malloc import limit_arenas
from scrapersky.core.redact import redact_logs
from scrapersky.db.schema import ensure_schema
from scrapersky.scheduling.client import SPIDER

# A job failed, or was cancelled by the run ending early, or rows were lost.
FAILURE_STATS = (
    "scrapersky/jobs/failed",
    "scrapersky/jobs/cancelled",
    "scrapersky/store/lost_rows",
)


class Command(ScrapyCrawl):
    """`scrapy crawl`, plus, for the `sitemap` spider only: bad arguments or database settings
    give a one-line error and exit 2 (5: the database unavailable) before anything runs, and the
    exit code is 1 when any scan of the run failed. Any other spider runs exactly as Scrapy's own command runs it."""

    def process_options(self, args: list[str], opts) -> None:
        super().process_options(args, opts)  # every -s and -a is in place after this
        if args != [SPIDER]:
            return
        settings = self.settings
        try:
            check_settings(settings)
            parse_run_arguments(opts.spargs, settings.get("SCRAPERSKY_DEFAULT_TENANT"))
            ensure_schema(settings.get("DATABASE_URL"))
        except ScraperSkyError as exc:
            # Scrapy makes the crawler process, which starts logging, right after this method:
            # stopping here keeps bad input (2) or an unavailable database (5) to one line.
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(exc.exit_code) from None

    def run(self, args: list[str], opts) -> None:
        if args != [SPIDER]:
            super().run(args, opts)
            return
        limit_arenas()  # before the run starts its threads
        skip_final_collections()
        crawler = self.crawler_process.create_crawler(SPIDER)
        # Scrapy puts in a new log handler as it makes the crawler, and again as the crawl
        # starts (its settings final), before the spider opens.
        self.level = crawler.settings.get("LOG_LEVEL")
        self._log_handler_ready()
        crawler.signals.connect(self._log_handler_ready, signal=signals.spider_opened)
        self.crawler_process.crawl(crawler, **opts.spargs)
        # What is loaded by now lives for the whole run: full collections would re-scan those
        # hundreds of thousands of objects every time, stalling the reactor for ~60 ms each.
        gc.freeze()
        # Listed URLs stay alive a while (a chunk fills, then waits for the pipeline): with the
        # default threshold of 700 they are promoted and trigger a full collection every second.
        gc.set_threshold(50_000, 20, 100)
        self.crawler_process.start()
        # The crawler's stats are the run's one record of how its jobs ended.
        if self.crawler_process.bootstrap_failed or any(
            crawler.stats.get_value(key) for key in FAILURE_STATS
        ):
            self.exitcode = WORK_FAILED

    def _log_handler_ready(self) -> None:
        """Redaction on the handler Scrapy logs through, and nothing made below LOG_LEVEL: Scrapy
        opens the root logger and its own to every level and leaves it to its handler to drop
        the rest, so every request's and item's debug line was made (a log record, a handler
        call) only to be dropped, about 2% of a crawl's CPU."""
        redact_logs()
        for name in ("", "scrapy"):
            logging.getLogger(name).setLevel(self.level)
