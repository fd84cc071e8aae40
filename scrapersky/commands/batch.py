from __future__ import annotations

import sys
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from sqlalchemy.orm import Session

from scrapersky.commands.base import ProjectCommand, print_json
from scrapersky.config import ConfigError, to_tenant
from scrapersky.config.arguments import read_domain_file, read_domain_list
from scrapersky.config.scan_options import (
    DEFAULT_SLOTS,
    RENDER_MODES,
    ScanRequest,
    parse_scan_request,
    to_slots,
)
from scrapersky.core.errors import WORK_FAILED, NotFound
from scrapersky.core.states import BatchStatus, JobStatus
from scrapersky.db import jobs
from scrapersky.db.engine import session_scope
from scrapersky.db.models import BatchJob
from scrapersky.db.views import batch_view
from scrapersky.scheduling.follow import follow_batch
from scrapersky.scheduling.planner import run_count
from scrapersky.scheduling.reaper import JobTimes
from scrapersky.scheduling.runs import NoNodeAnswered, ScheduledRun, live_runs, schedule_runs


class Command(ProjectCommand, ScrapyCommand):
    def syntax(self) -> str:
        return "FILE|- [options]  or  --resume BATCH [options]"

    def short_desc(self) -> str:
        return "Create a batch from a domain list and schedule its runs on Scrapyd nodes"

    def long_desc(self) -> str:
        return (
            "Reads domains (one a line, or comma separated; # comments and blank lines skipped, duplicates "
            "folded), stores the batch and one pending job per domain (invalid names become failed jobs), and "
            "schedules runs with -a batch_id=BATCH on the Scrapyd nodes, least-loaded first: --slots runs per "
            "node, never more runs than jobs. The batch id is printed first on stdout.\n\n"
            "When no node answers, the batch stays pending with its jobs, the command exits 6, and "
            "`scrapy batch --resume BATCH` schedules it later. --resume first requeues jobs whose run died "
            "(stale heartbeat), then schedules runs for the pending jobs left.\n\n"
            "Exit codes: 0 scheduled (with --wait: the batch ended complete), 1 the batch ended partial/failed, "
            "or it stalled with jobs pending and no run left, 2 bad input, 3 no such batch (--resume), "
            "5 database unavailable, 6 no node answered (docs/errors.md)."
        )

    def add_options(self, parser) -> None:
        super().add_options(parser)
        self.add_scrapyd_option(parser)
        parser.add_argument(
            "--tenant-id",
            default=None,
            help="tenant of the batch (default SCRAPERSKY_DEFAULT_TENANT)",
        )
        # Read by scrapersky.config.scan_options, as the spider arguments and batch.json fields are.
        parser.add_argument(
            "--max-pages", default=None, help="listed pages fetched per domain beyond the homepage"
        )
        parser.add_argument(
            "--render", default=None, help=f"browser rendering: {', '.join(RENDER_MODES)}"
        )
        parser.add_argument(
            "--priority", default=None, help="Scrapyd priority of the runs (higher runs sooner)"
        )
        parser.add_argument(
            "--slots", default=None, help=f"runs per node (default {DEFAULT_SLOTS})"
        )
        parser.add_argument(
            "--wait", action="store_true", help="follow the batch to its end with a progress bar"
        )
        parser.add_argument(
            "--json", action="store_true", help="print the outcome as JSON on stdout"
        )
        parser.add_argument(
            "--resume",
            default=None,
            metavar="BATCH",
            help="requeue stale jobs of BATCH and schedule runs for what is left",
        )

    def run(self, args: list[str], opts) -> None:
        self.as_json = opts.json
        self.batch: BatchJob | None = None
        self.runs: list[ScheduledRun] = []
        self.outcome: dict[str, Any] = {"runs": [], "skipped_nodes": {}, "error": None}
        super().run(args, opts)
        self._print_json()  # with --json, the outcome is printed whether the command failed or not

    def execute(self, args: list[str], opts) -> None:
        if opts.resume and args:
            raise UsageError("give either a domain list FILE or --resume BATCH, not both")
        if not opts.resume and len(args) != 1:
            raise UsageError("give one domain list FILE (- for stdin), or --resume BATCH")
        self.client = self.scrapyd_client(opts)
        slots = to_slots(opts.slots)
        request = parse_scan_request(vars(opts))  # --tenant-id, --max-pages, --render, --priority
        # Checking on runs while waiting: a node that does not answer at once counts as gone.
        self.probe = self.scrapyd_client(opts, retries=1)
        self.url = self.ready_database()
        self.batch = self._resume(opts.resume) if opts.resume else self._create(args[0], request)
        if self.batch.status in jobs.ACTIVE:
            self._schedule(self.batch, slots, request.priority)
        elif opts.resume:
            self._note(f"batch {self.batch.batch_id} has already ended: {self.batch.status}")
        if opts.wait:
            self.batch = self._wait(self.batch)
            self._report_end(self.batch)

    # --- steps --------------------------------------------------------------------------

    def _create(self, source: str, request: ScanRequest) -> BatchJob:
        tenant = request.tenant_id or to_tenant(self.settings.get("SCRAPERSKY_DEFAULT_TENANT"))
        names = read_domain_list(_read_source(source))
        if not names:
            raise ConfigError(f"{source}: no domains given")
        with session_scope(self.url) as session:  # the batch and all its jobs, or nothing
            batch = jobs.create_batch(session, tenant, names, request.options.stored())
        self._announce(batch)
        invalid = batch.failed_domains
        self._note(
            f"batch {batch.batch_id}: {batch.total_domains} domains"
            + (f", {invalid} invalid (failed jobs)" if invalid else "")
        )
        if batch.status not in jobs.ACTIVE:
            self.fail(f"batch {batch.batch_id} failed: {batch.error}", WORK_FAILED)
        return batch

    def _resume(self, ident: str) -> BatchJob:
        """The batch, its jobs of dead runs requeued (and what _prepare does), in one
        transaction committed before any run is scheduled."""
        times = JobTimes.from_settings(self.settings)
        with session_scope(self.url) as session:
            batch = jobs.find_batch(session, ident)
            if batch is None:
                raise NotFound(f"no batch with id {ident!r}")
            self._prepare(session, batch)
            # Running jobs whose heartbeat stopped only: the batch's waiting jobs are what the
            # runs about to be scheduled will take.
            reaped = times.reap(session, pending=False)
            session.flush()
            session.refresh(batch)  # as requeueing and reaping left it
        self.outcome["reaped"] = reaped
        if any(reaped.values()):
            self._note(f"stale jobs: {reaped['requeued']} requeued, {reaped['failed']} failed")
        self._announce(batch)
        return batch

    def _prepare(self, session: Session, batch: BatchJob) -> None:
        """What a resume does to the batch before its dead runs' jobs are requeued (nothing)."""

    def _schedule(self, batch: BatchJob, slots: int, priority: float) -> None:
        with session_scope(self.url) as session:
            pending = jobs.status_counts(session, batch.id).get(JobStatus.PENDING, 0)
        count = run_count(len(self.client.urls), slots, pending)
        if not count:
            self._note(f"batch {batch.batch_id}: no pending job to schedule")
            return
        try:
            runs, skipped = schedule_runs(
                self.client, {"batch_id": batch.batch_id}, count, priority=priority
            )
        except NoNodeAnswered as exc:
            raise NoNodeAnswered(
                f"{exc}; batch {batch.batch_id} stays pending: `scrapy batch --resume {batch.batch_id}` "
                "schedules it once a node answers"
            ) from None
        self.runs = runs
        self.outcome["runs"] = [{"node": run.node, "run_id": run.run_id} for run in runs]
        self.outcome["skipped_nodes"] = skipped
        for _node, reason in skipped.items():
            self._note(f"warning: node skipped: {reason}")
        nodes = len({run.node for run in runs})
        self._note(
            f"batch {batch.batch_id}: {len(runs)} runs scheduled on {nodes} node{'s' * (nodes != 1)}"
        )

    def _wait(self, batch: BatchJob) -> BatchJob:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        runs = self.runs
        console = Console(stderr=True)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(
                f"batch {batch.batch_id[:8]}",
                total=batch.total_domains,
                failed=batch.failed_domains,
            )

            def update(current: BatchJob) -> None:
                progress.update(
                    task,
                    completed=current.completed_domains + current.failed_domains,
                    failed=current.failed_domains,
                )

            return follow_batch(
                self.url,
                batch.id,
                times=JobTimes.from_settings(self.settings),
                alive=lambda: bool(live_runs(self.probe, runs)),
                on_update=update,
            )

    def _report_end(self, batch: BatchJob) -> None:
        summary = (
            f"batch {batch.batch_id} ended {batch.status}: {batch.completed_domains} complete, "
            f"{batch.failed_domains} failed of {batch.total_domains}"
        )
        self._note(summary)
        if batch.status != BatchStatus.COMPLETE:
            self.outcome["error"] = summary
            self.exitcode = WORK_FAILED

    # --- output -------------------------------------------------------------------------

    def _announce(self, batch: BatchJob) -> None:
        if not self.as_json:
            print(batch.batch_id, flush=True)

    def _note(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def fail(self, message: str, code: int) -> None:
        super().fail(message, code)
        self.outcome["error"] = message

    def _print_json(self) -> None:
        if not self.as_json:
            return
        batch = self.batch
        if batch is not None:
            try:
                with session_scope(self.url) as session:
                    batch = jobs.find_batch(session, batch.id) or batch
            except Exception:  # the database went away: the last state read is still worth printing
                pass
        print_json({"batch": batch_view(batch) if batch is not None else None, **self.outcome})


def _read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return read_domain_file(source)
