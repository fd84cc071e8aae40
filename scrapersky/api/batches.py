"""batch.json (start a batch) and batchstatus.json (follow it, a page of its jobs at a time)."""

from __future__ import annotations

from typing import Any

from twisted.web import http

from scrapersky.api.base import MAX_PAGE, Fields, Service, WebError
from scrapersky.api.schedule import Scheduling, scan_options
from scrapersky.arguments import read_domain_list
from scrapersky.db import jobs
from scrapersky.domains import InvalidDomain, standardize_domain
from scrapersky.scheduling.client import ScrapydError
from scrapersky.scheduling.planner import run_count
from scrapersky.views import batch_view, job_links, job_view

DEFAULT_SLOTS = 2
JOBS_PER_PAGE = 1000


class Batch(Scheduling):
    """POST domains (repeated, or newline/comma separated text) and/or a domains_file upload
    [, tenant_id, max_pages, render, priority, slots]: a batch, its pending jobs, and runs to work it."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        names = [name for text in fields.all("domains") for name in read_domain_list(text)]
        for upload in fields.raw("domains_file"):
            names += read_domain_list(upload.decode("utf-8", "replace"))
        if not names:
            raise WebError(http.BAD_REQUEST, "no domains given: send 'domains' or upload a 'domains_file'")
        if not any(_valid(name) for name in names):
            raise WebError(http.BAD_REQUEST, f"no valid domain among the {len(names)} given")
        tenant, options, priority = scan_options(fields)
        slots = fields.number("slots", DEFAULT_SLOTS, minimum=1)
        url = self.ready_database()
        batch = jobs.create_batch(url, tenant, names, options)
        pending = batch.total_domains - batch.failed_domains
        client = self.cluster()
        nodes = len(client.urls) if client is not None else 1
        try:
            runs = self.schedule({"batch_id": batch.batch_id}, run_count(nodes, slots, pending), priority)
        except ScrapydError as exc:
            raise WebError(http.SERVICE_UNAVAILABLE, f"{exc}; batch {batch.batch_id} stays pending",
                           batch_id=batch.batch_id) from None
        batch = jobs.find_batch(url, batch.id)
        return {"batch_id": batch.batch_id, "state": batch.status, "batch": batch_view(batch), "runs": runs,
                "links": {"batch": f"batchstatus.json?batch={batch.batch_id}"}}


class BatchStatus(Service):
    """GET batch=ID (integer id, public id, or the Scrapyd run id of one of its runs) [, after, limit]:
    the batch and a page of its jobs (in id order, after the job id `after`; `next_after` continues)."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        ident = fields.text("batch", required=True)
        tenant = fields.tenant()
        after = fields.number("after", 0)
        limit = fields.number("limit", JOBS_PER_PAGE, minimum=1, maximum=MAX_PAGE)
        url = self.ready_database()
        self.reap(url)
        batch = jobs.find_batch(url, ident, tenant)
        if batch is None:
            by_run = [job for job in jobs.find_jobs(url, ident, tenant) if job.run_id == ident and job.batch_id]
            batch = jobs.find_batch(url, by_run[0].batch_id, tenant) if by_run else None
        if batch is None:
            raise WebError(http.NOT_FOUND, f"no batch with id {jobs.excerpt(ident)!r}")
        page = jobs.batch_jobs(url, batch.id, after=after, limit=limit + 1)
        view = batch_view(batch)
        view["jobs"] = [{**job_view(job), "links": job_links(job)} for job in page[:limit]]
        return {"batch_id": batch.batch_id, "state": batch.status, "batch": view,
                "next_after": page[limit - 1].id if len(page) > limit else None}


def _valid(name: str) -> bool:
    try:
        standardize_domain(name)
    except InvalidDomain:
        return False
    return True
