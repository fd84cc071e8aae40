"""batch.json (start a batch) and batchstatus.json (follow it, a page of its jobs at a time)."""

from __future__ import annotations

from typing import Any

from scrapyd.webservice import Cancel as ScrapydCancel
from sqlalchemy.orm import Session
from twisted.internet import threads

from scrapersky.api.base import MAX_PAGE, Fields, Service
from scrapersky.api.schedule import (
    Scheduling,
    batch_slots,
    check_batch_size,
    quota,
    scan_options,
)
from scrapersky.config.arguments import read_domain_list
from scrapersky.core.domains import InvalidDomain, standardize_domain
from scrapersky.core.errors import BadInput, NodeUnavailable, NotFound, QuotaExceeded
from scrapersky.core.messages import excerpt
from scrapersky.db import jobs
from scrapersky.db.engine import session_scope
from scrapersky.db.models import BatchJob, Job
from scrapersky.db.views import batch_view, job_links, job_view
from scrapersky.scheduling.cancel import stop_runs
from scrapersky.scheduling.client import PROJECT, ScrapydError
from scrapersky.scheduling.planner import run_count

JOBS_PER_PAGE = 1000


class Batch(Scheduling):
    """POST domains (repeated, or newline/comma separated text) and/or a domains_file upload
    [, tenant_id, max_pages, render, priority, slots]: a batch, its pending jobs, and runs to work it.

    Atomic: the batch and all its jobs are written in one transaction, committed before its runs
    are scheduled (they must find them). The answer is read afterwards, in a read transaction."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        names = [name for text in fields.all("domains") for name in read_domain_list(text)]
        for upload in fields.raw("domains_file"):
            names += read_domain_list(upload.decode("utf-8", "replace"))
        if not names:
            raise BadInput("no domains given: send 'domains' or upload a 'domains_file'")
        check_batch_size(len(names))
        if not any(_valid(name) for name in names):
            raise BadInput(f"no valid domain among the {len(names)} given")
        tenant, options, priority = scan_options(fields)
        slots = batch_slots(fields)
        url = self.ready_database()
        with session_scope(url) as session:
            batch = jobs.create_batch(session, tenant, names, options)
        pending = batch.total_domains - batch.failed_domains
        runs = _schedule_batch(self, batch, pending, slots, priority, "stays pending")
        return _batch_answer(url, batch.id, runs)


class BatchStatusService(Service):
    """GET batch=ID (integer id, public id, or the Scrapyd run id of one of its runs) [, after, limit]:
    the batch and a page of its jobs (in id order, after the job id `after`; `next_after` continues)."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        ident = fields.text("batch", required=True)
        tenant = fields.tenant()
        after = fields.number("after", 0)
        limit = fields.number("limit", JOBS_PER_PAGE, minimum=1, maximum=MAX_PAGE)
        url = self.ready_database()
        self.reap(url)
        with session_scope(url) as session:
            view, batch, page = _batch_page(session, ident, tenant, after, limit)
        return {
            "batch_id": batch.batch_id,
            "state": batch.status,
            "batch": view,
            "next_after": page[limit - 1].id if len(page) > limit else None,
        }


def _batch_page(
    session: Session, ident: str, tenant: str | None, after: int, limit: int
) -> tuple[dict[str, Any], BatchJob, list[Job]]:
    """The batch an id names (its own or one of its runs'), its view with its counts and a page
    of its jobs, and that page with one job more than `limit` when more follow."""
    batch = jobs.find_batch(session, ident, tenant)
    if batch is None:
        by_run = [
            job
            for job in jobs.find_jobs(session, ident, tenant)
            if job.run_id == ident and job.batch_id
        ]
        batch = jobs.find_batch(session, by_run[0].batch_id, tenant) if by_run else None
    if batch is None:
        raise NotFound(f"no batch with id {excerpt(ident)!r}")
    page = jobs.batch_jobs(session, batch.id, after=after, limit=limit + 1)
    view = batch_view(batch)
    view["counts"] = jobs.status_counts(session, batch.id)
    view["jobs"] = [{**job_view(job), "links": job_links(job)} for job in page[:limit]]
    return view, batch, page


def _valid(name: str) -> bool:
    try:
        standardize_domain(name)
    except InvalidDomain:
        return False
    return True


class Batches(Service):
    """GET [after, limit]: the caller's batches, newest first (`next_after` continues)."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        tenant = fields.tenant()
        after = fields.number("after", 0)
        limit = fields.number("limit", 25, minimum=1, maximum=MAX_PAGE)
        with session_scope(self.ready_database()) as session:
            page = jobs.batches_page(session, tenant, after=after, limit=limit + 1)
        return {
            "batches": [batch_view(b) for b in page[:limit]],
            "next_after": page[limit - 1].id if len(page) > limit else None,
        }


class Cancel(Scheduling):
    """POST id (a batch or a job, any id form): pending jobs cancelled at once, the runs of running
    ones stopped through Scrapyd's cancel (they end their jobs `cancelled`).

    Atomic: the batch's end and its pending jobs' (counters and webhook deliveries with them) are
    one transaction, committed before any run is asked to stop.

    The name is also Scrapyd's own endpoint (project, job), which stopping runs relies on: a
    request in that form is Scrapyd's, answered by Scrapyd's resource behind the node's basic auth."""

    def __init__(self, root) -> None:
        super().__init__(root)
        self.scrapyd = ScrapydCancel(root)

    def for_tenants(self, txrequest) -> bool:
        return b"project" not in txrequest.args

    def render(self, txrequest):
        if not self.for_tenants(txrequest):
            return self.scrapyd.render(txrequest)
        return super().render(txrequest)

    def answer(self, fields: Fields) -> dict[str, Any]:
        ident = fields.text("id", required=True)
        with session_scope(self.ready_database()) as session:
            outcome = jobs.cancel(session, ident, fields.tenant())
        if outcome is None:
            raise NotFound(f"no batch or job with id {excerpt(ident)!r}")
        client = self.cluster()
        stopped, unknown = (
            stop_runs(client, outcome.runs) if client is not None else self._stop_here(outcome.runs)
        )
        return {
            "kind": outcome.kind,
            "id": outcome.public_id,
            "cancelled_pending": outcome.cancelled,
            "runs_stopped": stopped,
            "runs_not_found": unknown,
        }

    def _stop_here(self, run_ids) -> tuple[dict[str, str], list[str]]:
        """This node alone: ask its own launcher, as Scrapyd's cancel.json does."""
        from twisted.internet import reactor

        stopped, unknown = {}, []
        for run_id in run_ids:
            found = threads.blockingCallFromThread(reactor, self._cancel_local, run_id)
            (stopped.__setitem__(run_id, self.root.node_name) if found else unknown.append(run_id))
        return stopped, unknown

    def _cancel_local(self, run_id: str) -> bool:
        """What Scrapyd's cancel.json does for one run of the project (queued or running)."""
        found = bool(
            PROJECT in self.root.poller.queues
            and self.root.poller.queues[PROJECT].remove(lambda message: message["_job"] == run_id)
        )
        for process in self.root.launcher.processes.values():
            if process.project == PROJECT and process.job == run_id:
                process.transport.signalProcess("INT")
                found = True
        return found


class Retry(Scheduling):
    """POST batch: the batch's failed domains requeued as a new attempt, and runs scheduled for them.

    Atomic: finding the batch, requeueing its failed jobs and moving its counters are one
    transaction, committed before its runs are scheduled. The answer is read afterwards."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        ident = fields.text("batch", required=True)
        slots = batch_slots(fields)
        # A job's first run is attempt 1: SCRAPERSKY_MAX_RETRIES retries make 1 + that many.
        attempts = 1 + quota("SCRAPERSKY_MAX_RETRIES", minimum=0)
        url = self.ready_database()
        with session_scope(url) as session:
            batch = jobs.find_batch(session, ident, fields.tenant())
            if batch is None:
                raise NotFound(f"no batch with id {excerpt(ident)!r}")
            requeued = jobs.requeue_failed(session, batch.id, max_attempts=attempts)
            spent = not requeued and jobs.out_of_attempts(session, batch.id, attempts)
        if spent:
            raise QuotaExceeded(
                f"batch {batch.batch_id}: its failed domains were tried {attempts} times, "
                "the most a batch is retried (SCRAPERSKY_MAX_RETRIES)",
                batch_id=batch.batch_id,
            )
        runs = _schedule_batch(self, batch, requeued, slots, 0.0, "keeps its requeued jobs pending")
        return _batch_answer(url, batch.id, runs, requeued=requeued)


def _schedule_batch(
    service: Scheduling, batch: BatchJob, pending: int, slots: int, priority: float, left: str
) -> list[dict[str, str]]:
    """Runs for `pending` jobs of the batch, `slots` per node; when no node takes them, a 503
    saying what is `left` of the batch."""
    client = service.cluster()
    nodes = len(client.urls) if client is not None else 1
    try:
        return service.schedule(
            {"batch_id": batch.batch_id}, run_count(nodes, slots, pending), priority
        )
    except ScrapydError as exc:
        raise NodeUnavailable(
            f"{exc}; batch {batch.batch_id} {left}",
            batch_id=batch.batch_id,
        ) from None


def _batch_answer(
    url: str, batch_pk: int, runs: list[dict[str, str]], **extra: Any
) -> dict[str, Any]:
    """The batch as it is once its runs are scheduled (a read transaction of its own)."""
    with session_scope(url) as session:
        batch = jobs.find_batch(session, batch_pk)
    return {
        "batch_id": batch.batch_id,
        "state": batch.status,
        **extra,
        "runs": runs,
        "batch": batch_view(batch),
        "links": {"batch": f"batchstatus.json?batch={batch.batch_id}"},
    }


# The name scrapyd.conf files deployed before the rename give batchstatus.json.
BatchStatus = BatchStatusService
