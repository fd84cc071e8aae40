from __future__ import annotations

import json
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from scrapersky.config import ConfigError, check_settings, to_tenant
from scrapersky.db import jobs
from scrapersky.db.schema import ensure_schema, first_line
from scrapersky.scheduling.cancel import stop_runs
from scrapersky.scheduling.client import ScrapydClient, parse_node_urls


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "BATCH|JOB [--tenant-id UUID] [--json]"

    def short_desc(self) -> str:
        return "Cancel a batch or a job: pending jobs at once, running ones through Scrapyd's cancel"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--scrapyd", action="append", default=[], metavar="URL",
                            help="Scrapyd node (repeatable); default: SCRAPYD_URLS")
        parser.add_argument("--tenant-id", default=None, help="only this tenant's batch or job")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give one batch or job id")
        settings = self.settings
        url = settings.get("DATABASE_URL")
        try:
            check_settings(settings)
            tenant = to_tenant(opts.tenant_id) if opts.tenant_id else None
            nodes = parse_node_urls(opts.scrapyd or settings.get("SCRAPYD_URLS"))
            ensure_schema(url)
            outcome = jobs.cancel(url, args[0], tenant)
            if outcome is None:
                raise ConfigError(f"no batch or job with id {args[0]!r}")
            client = ScrapydClient(nodes, username=settings.get("SCRAPYD_USERNAME"),
                                   password=settings.get("SCRAPYD_PASSWORD"), retries=1)
            stopped, unknown = stop_runs(client, outcome.runs)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        except Exception as exc:
            print(f"error: {first_line(exc)}", file=sys.stderr)
            self.exitcode = 1
            return
        if opts.json:
            print(json.dumps({"kind": outcome.kind, "id": outcome.public_id, "cancelled_pending": outcome.cancelled,
                              "runs_stopped": stopped, "runs_not_found": unknown}, indent=2))
            return
        print(f"{outcome.kind} {outcome.public_id}: {outcome.cancelled} pending job(s) cancelled, "
              f"{len(stopped)} run(s) asked to stop")
        for run_id in unknown:
            print(f"warning: run {run_id} is on no node: its jobs end when their heartbeat goes stale",
                  file=sys.stderr)
