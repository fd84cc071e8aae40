from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from scrapersky.commands.base import ProjectCommand, print_json
from scrapersky.config import to_tenant
from scrapersky.core.errors import NotFound
from scrapersky.db import jobs
from scrapersky.db.engine import session_scope
from scrapersky.scheduling.cancel import stop_runs


class Command(ProjectCommand, ScrapyCommand):
    def syntax(self) -> str:
        return "BATCH|JOB [--tenant-id UUID] [--json]"

    def short_desc(self) -> str:
        return (
            "Cancel a batch or a job: pending jobs at once, running ones through Scrapyd's cancel"
        )

    def add_options(self, parser) -> None:
        super().add_options(parser)
        self.add_scrapyd_option(parser)
        parser.add_argument("--tenant-id", default=None, help="only this tenant's batch or job")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def execute(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give one batch or job id")
        tenant = to_tenant(opts.tenant_id) if opts.tenant_id else None
        client = self.scrapyd_client(opts, retries=1)
        # One transaction: the batch and its pending jobs cancelled together, committed before
        # the runs of running jobs are asked to stop.
        with session_scope(self.ready_database()) as session:
            outcome = jobs.cancel(session, args[0], tenant)
        if outcome is None:
            raise NotFound(f"no batch or job with id {args[0]!r}")
        stopped, unknown = stop_runs(client, outcome.runs)
        if opts.json:
            print_json(
                {
                    "kind": outcome.kind,
                    "id": outcome.public_id,
                    "cancelled_pending": outcome.cancelled,
                    "runs_stopped": stopped,
                    "runs_not_found": unknown,
                }
            )
            return
        print(
            f"{outcome.kind} {outcome.public_id}: {outcome.cancelled} pending job(s) cancelled, "
            f"{len(stopped)} run(s) asked to stop"
        )
        for run_id in unknown:
            print(
                f"warning: run {run_id} is on no node: its jobs end when their heartbeat goes stale",
                file=sys.stderr,
            )
