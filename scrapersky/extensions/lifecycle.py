"""JobLifecycle: keeps the jobs and batch_jobs rows true to what a run is doing."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from scrapy import signals
from twisted.internet import task, threads

import scrapersky
from scrapersky import signals as scan_signals
from scrapersky.core.messages import MAX_ERROR_LENGTH, cut
from scrapersky.core.retry import Backoff, retry_async
from scrapersky.core.states import JobStatus
from scrapersky.core.storable import storable_text
from scrapersky.db import jobs
from scrapersky.db.engine import in_transaction
from scrapersky.db.errors import is_transient
from scrapersky.db.normalize import json_safe
from scrapersky.db.schema import first_line
from scrapersky.items import DomainItem
from scrapersky.scheduling.reaper import JobTimes
from scrapersky.spiders.scan import Scan

logger = logging.getLogger(__name__)
CANCEL_REASONS = {"shutdown", "cancelled"}
PACKAGE = os.path.dirname(scrapersky.__file__)


class JobLifecycle:
    def __init__(self, crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.url = settings.get("DATABASE_URL")
        self.times = JobTimes.from_settings(settings)
        # Several heartbeats fit in the stale window, and never more than one every 10 s.
        self.interval = min(max(self.times.stale_after / 4, 0.5), 10.0)
        self.gather = settings.getint("SCRAPERSKY_GATHER_MS") / 1000
        self.live: dict[str, Scan] = {}
        # Claimed ahead of a free scan slot: their heartbeats say the run still holds them.
        self.waiting: dict[str, jobs.ClaimedJob] = {}
        # Job ends waiting for the one recording in flight; each caller awaits its future.
        self.ends: list[tuple[jobs.JobEnd, asyncio.Future[bool]]] = []
        self.recording: asyncio.Task[None] | None = None
        self.beat: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.jobs_claimed, signal=scan_signals.jobs_claimed)
        crawler.signals.connect(ext.scan_started, signal=scan_signals.scan_started)
        return ext

    async def spider_opened(self, spider) -> None:
        # Which copy runs: a checkout, an installed package or a deployed egg.
        logger.info("scrapersky from %s", PACKAGE)
        reaped = await asyncio.to_thread(in_transaction, self.url, self.times.reap)
        if any(reaped.values()):
            logger.warning("stale jobs: %(failed)d failed, %(requeued)d requeued", reaped)
        self.beat = task.LoopingCall(self._heartbeat)
        self.beat.start(self.interval, now=False)

    def jobs_claimed(self, claimed: list[jobs.ClaimedJob]) -> None:
        self.waiting.update((job.job_id, job) for job in claimed)

    def scan_started(self, scan: Scan) -> None:
        self.waiting.pop(scan.job.job_id, None)
        self.live[scan.job.job_id] = scan

    async def item_scraped(self, item: Any, spider) -> None:
        if isinstance(item, DomainItem):
            await self._finish(
                item, item.status, item.last_error if item.status == JobStatus.FAILED else None
            )

    async def item_error(self, item: Any, response, spider, failure) -> None:
        if isinstance(item, DomainItem):
            await self._finish(
                item,
                JobStatus.FAILED,
                cut(f"storing results failed: {failure.getErrorMessage()}", MAX_ERROR_LENGTH),
            )

    async def item_dropped(self, item: Any, response, exception, spider) -> None:
        if isinstance(item, DomainItem):
            await self._finish(
                item, JobStatus.FAILED, cut(f"result dropped: {exception}", MAX_ERROR_LENGTH)
            )

    def spider_error(self, failure, response, spider) -> None:
        scan = (
            getattr(response, "meta", {}).get("scrapersky_scan") if response is not None else None
        )
        if scan is not None:
            scan.note(f"spider error: {failure.getErrorMessage()}")

    async def spider_closed(self, spider, reason: str) -> None:
        if self.beat is not None and self.beat.running:
            self.beat.stop()
        if self.recording is not None:
            await asyncio.wait([self.recording])  # every job end recorded before the run's end
        status = JobStatus.CANCELLED if reason in CANCEL_REASONS else JobStatus.FAILED
        error = f"run ended ({reason}) before the scan finished"
        run_id = getattr(spider, "run_id", None)
        if run_id and self.waiting:
            unstarted = [job.id for job in self.waiting.values()]
            given_back = await self._record(jobs.unclaim, run_id, unstarted)
            if given_back:
                logger.info("%d claimed jobs never started: pending again", given_back)
        if run_id:
            ended = await self._record(jobs.end_run, run_id, status, error)
            if ended:
                logger.warning("%d unfinished jobs of run %s marked %s", ended, run_id, status)
                self.crawler.stats.inc_value(f"scrapersky/jobs/{status}", ended)

    async def _finish(self, item: DomainItem, status: str, error: str | None) -> None:
        scan = self.live.pop(item.job_id, None)
        if scan is None:
            return
        stats = json_safe({**(self.crawler.stats.get_stats() or {}), "scan": scan.result()})
        if status == JobStatus.FAILED:
            self.crawler.stats.inc_value("scrapersky/jobs/failed")
        else:
            self.crawler.stats.inc_value("scrapersky/jobs/complete")
        end = jobs.JobEnd(
            scan.job.id,
            status,
            # What a scan noted (errors, a site's answers) is a site's text: made storable.
            error=None if error is None else storable_text(error),
            result_data=json_safe(scan.result()),
            stats=stats,
        )
        recorded: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.ends.append((end, recorded))
        if self.recording is None or self.recording.done():
            self.recording = asyncio.ensure_future(self._record_ends())
        try:
            await recorded
        except Exception as exc:  # the reaper ends the job later; the run still reports failure
            self.crawler.stats.inc_value("scrapersky/jobs/unrecorded")
            logger.error("could not record the end of job %s: %s", scan.job.job_id, exc)

    async def _record_ends(self) -> None:
        """Record the job ends that arrived while the last group was being written, all in one
        transaction (the first group waits SCRAPERSKY_GATHER_MS for company while other scans
        of the run are under way or claimed); a group the database refuses is recorded job by
        job, so that one job's refused record cannot cost the others theirs. A group that
        failed on a transient error has had its retries already (_record): the database is
        gone, and each job would only wait out the same retries again."""
        if self.gather and (self.live or self.waiting):
            await asyncio.sleep(self.gather)  # other scans' ends are coming: one transaction
        while self.ends:
            group, self.ends = self.ends, []
            try:
                await self._record(jobs.finish_jobs, [end for end, _ in group])
            except Exception as exc:
                if is_transient(exc):
                    for _, recorded in group:
                        recorded.set_exception(exc)
                    continue
                for end, recorded in group:
                    try:
                        await self._record(jobs.finish_jobs, [end])
                    except Exception as exc:
                        recorded.set_exception(exc)
                    else:
                        recorded.set_result(True)
            else:
                for _, recorded in group:
                    recorded.set_result(True)

    async def _record(self, fn, *args, **kwargs):
        """fn(session, ...) in a transaction of its own, in a thread. Job records are small and
        must not be lost to a database blip: retry transient errors with backoff for as long as
        the job would take to go stale anyway; never a refusal. Each attempt is the whole
        transaction again: one that failed was rolled back whole."""
        return await retry_async(
            lambda: asyncio.to_thread(in_transaction, self.url, fn, *args, **kwargs),
            is_transient=is_transient,
            backoff=Backoff(0.5, cap=10.0, within=self.times.stale_after),
            on_retry=lambda exc, delay: logger.warning(
                "recording job state failed (%s); retrying in %.1fs", first_line(exc), delay
            ),
        )

    def _heartbeat(self):
        progress = {job.id: 0.0 for job in self.waiting.values()}
        progress.update((scan.job.id, scan.progress()) for scan in self.live.values())
        if not progress:
            return None
        d = threads.deferToThread(in_transaction, self.url, jobs.heartbeat, progress)
        # A missed heartbeat is not fatal; returning None keeps the LoopingCall alive.
        d.addErrback(
            lambda failure: logger.warning("heartbeat failed: %s", failure.getErrorMessage())
        )
        return d
