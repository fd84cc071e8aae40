"""scan.json (start a scan) and jobstatus.json (poll it)."""

from __future__ import annotations

from typing import Any

from scrapersky.api.base import Fields, Service
from scrapersky.api.schedule import Scheduling, scan_options
from scrapersky.core import states
from scrapersky.core.domains import standardize_domain
from scrapersky.core.errors import NodeUnavailable, NotFound
from scrapersky.core.messages import excerpt
from scrapersky.db import jobs
from scrapersky.db.engine import session_scope
from scrapersky.db.models import Job
from scrapersky.db.views import job_links, job_view
from scrapersky.scheduling.client import ScrapydError, new_run_id


def job_answer(job: Job, with_stats: bool = False) -> dict[str, Any]:
    """`state` is the job's own lifecycle state; `status` stays Scrapyd's "ok" for the request."""
    return {
        "job_id": job.job_id,
        "state": job.status,
        "job": job_view(job, with_stats=with_stats),
        "links": job_links(job),
    }


class ScanService(Scheduling):
    """POST domain [, tenant_id, max_pages, render, priority]: a pending job and a run to scan it.

    Atomic: the job is written and read back for the answer in one transaction, committed before
    the run is scheduled. A failed schedule ends the job, failed, in a second transaction."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        raw = fields.text("domain", required=True)
        tenant, options, priority = scan_options(fields)
        domain = standardize_domain(raw)  # InvalidDomain: a 400
        url = self.ready_database()
        run_id = new_run_id()
        # The job is written and read back for the answer in one transaction, committed before
        # the run is scheduled: the run must find its job.
        with session_scope(url) as session:
            [job] = jobs.add_jobs(session, tenant, [domain], run_id=run_id, options=options)
            session.refresh(job)  # the columns the database fills in, for the answer
            answer = job_answer(job)
        try:
            [run] = self.schedule({"job_id": job.job_id}, 1, priority, run_id=lambda: run_id)
        except ScrapydError as exc:
            with session_scope(url) as session:
                jobs.end_run(session, run_id, states.JobStatus.FAILED, f"not scheduled: {exc}")
            raise NodeUnavailable(str(exc), job_id=job.job_id) from None
        return {**answer, "run_id": run["run_id"], "node": run["node"]}


class JobStatusService(Service):
    """GET job=ID (integer id, public id or Scrapyd run id): the job, or the jobs of a run,
    of the caller's tenant (an operator key: any tenant, or the one named by tenant_id)."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        ident = fields.text("job", required=True)
        tenant = fields.tenant()
        url = self.ready_database()
        self.reap(url)
        with session_scope(url) as session:
            found = jobs.find_jobs(session, ident, tenant)
        if not found:
            raise NotFound(f"no job with id {excerpt(ident)!r}")
        if len(found) == 1:
            return job_answer(found[0], with_stats=True)
        return {"jobs": [{**job_view(job), "links": job_links(job)} for job in found]}


# The name scrapyd.conf files deployed before the rename give jobstatus.json.
JobStatus = JobStatusService
