"""Claiming and ending jobs in groups (db/jobs.py): a run takes several pending jobs in one
transaction, with what earlier scans stored about each domain; ends several in one; and gives
back the jobs it claimed ahead and never started."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, update

from scrapersky.core.states import BatchStatus, JobStatus
from scrapersky.db import jobs, webhooks
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.db.models import BatchJob, Domain, Job, SitemapFile, WebhookDelivery

TENANT = "550e8400-e29b-41d4-a716-446655440000"
HOSTS = ["a.test", "b.test", "c.test", "d.test", "e.test"]


def _statuses(url: str, batch_pk: int) -> dict[str, tuple[str, str | None, int]]:
    with session_scope(url) as session:
        return {
            job.domain: (job.status, job.run_id, job.attempts)
            for job in session.scalars(select(Job).where(Job.batch_id == batch_pk))
        }


def test_a_claim_takes_several_jobs_with_their_stored_sitemaps(database_url):
    batch = in_transaction(database_url, jobs.create_batch, TENANT, HOSTS, {})
    with session_scope(database_url) as session:
        domain = Domain(tenant_id=TENANT, domain="a.test")
        session.add(domain)
        session.flush()
        session.add(
            SitemapFile(
                domain_id=domain.id,
                url="http://a.test/sitemap.xml",
                sitemap_type="urlset",
                discovery_method="robots_txt",
                status_code=200,
                etag='"v1"',
                url_count=3,
            )
        )
    claimed = in_transaction(
        database_url, jobs.claim_jobs, run_id="run-1", limit=3, batch_id=batch.id
    )
    assert [job.domain for job in claimed] == HOSTS[:3]
    assert claimed[0].validators["http://a.test/sitemap.xml"]["etag"] == '"v1"'
    assert claimed[1].validators == {}
    found = _statuses(database_url, batch.id)
    assert [found[host] for host in HOSTS] == [("running", "run-1", 1)] * 3 + [
        ("pending", None, 0)
    ] * 2
    with session_scope(database_url) as session:
        assert session.get_one(BatchJob, batch.id).status == BatchStatus.RUNNING
    rest = in_transaction(database_url, jobs.claim_jobs, run_id="run-2", limit=3, batch_id=batch.id)
    assert [job.domain for job in rest] == HOSTS[3:]
    assert (
        in_transaction(database_url, jobs.claim_jobs, run_id="run-2", limit=3, batch_id=batch.id)
        == []
    )


def test_runs_claiming_at_once_never_share_a_job(database_url):
    hosts = [f"h{i}.test" for i in range(40)]
    batch = in_transaction(database_url, jobs.create_batch, TENANT, hosts, {})

    def drain(run_id: str) -> list[str]:
        taken: list[str] = []
        while claimed := in_transaction(
            database_url, jobs.claim_jobs, run_id=run_id, limit=3, batch_id=batch.id
        ):
            taken += [job.domain for job in claimed]
        return taken

    with ThreadPoolExecutor(4) as pool:
        taken = [d for run in pool.map(drain, ["r1", "r2", "r3", "r4"]) for d in run]
    assert sorted(taken) == sorted(hosts)


def test_ends_are_recorded_together_and_only_for_running_jobs(database_url):
    batch = in_transaction(database_url, jobs.create_batch, TENANT, HOSTS[:3], {})
    first, second, third = in_transaction(
        database_url, jobs.claim_jobs, run_id="r", limit=3, batch_id=batch.id
    )
    in_transaction(
        database_url, jobs.finish_jobs, [jobs.JobEnd(third.id, JobStatus.FAILED, error="early")]
    )
    recorded = in_transaction(
        database_url,
        jobs.finish_jobs,
        [
            jobs.JobEnd(first.id, JobStatus.COMPLETE, result_data={"urls": 3}),
            jobs.JobEnd(second.id, JobStatus.FAILED, error="refused"),
            jobs.JobEnd(third.id, JobStatus.COMPLETE),  # already ended: not changed
        ],
    )
    assert recorded == [True, True, False]
    assert {d: s for d, (s, _, _) in _statuses(database_url, batch.id).items()} == {
        "a.test": "complete",
        "b.test": "failed",
        "c.test": "failed",
    }
    with session_scope(database_url) as session:
        done = session.get_one(BatchJob, batch.id)
        assert (done.completed_domains, done.failed_domains, done.status) == (1, 2, "partial")


def test_jobs_claimed_ahead_and_never_started_are_given_back(database_url):
    batch = in_transaction(database_url, jobs.create_batch, TENANT, HOSTS[:3], {})
    claimed = in_transaction(database_url, jobs.claim_jobs, run_id="r", limit=3, batch_id=batch.id)
    given = in_transaction(database_url, jobs.unclaim, "r", [job.id for job in claimed[1:]])
    assert given == 2
    found = _statuses(database_url, batch.id)
    assert found == {
        "a.test": ("running", "r", 1),
        "b.test": ("pending", None, 0),
        "c.test": ("pending", None, 0),
    }
    # Another run's claim, or a cancelled batch's jobs, are not given back.
    again = in_transaction(
        database_url, jobs.claim_jobs, run_id="other", limit=2, batch_id=batch.id
    )
    assert in_transaction(database_url, jobs.unclaim, "r", [job.id for job in again]) == 0
    with session_scope(database_url) as session:
        session.execute(
            update(BatchJob).where(BatchJob.id == batch.id).values(status=BatchStatus.CANCELLED)
        )
    assert in_transaction(database_url, jobs.unclaim, "other", [job.id for job in again]) == 0


def test_a_refused_job_end_costs_the_others_in_its_group_nothing(postgres_url):
    """The lifecycle records job ends that arrive together in one transaction; when PostgreSQL
    refuses one of them (here a NUL in its result, which jsonb refuses), the group is recorded
    again job by job: the others are recorded, the refused one's caller gets the error."""
    import asyncio

    from scrapy.utils.test import get_crawler

    from scrapersky.extensions import JobLifecycle

    batch = in_transaction(postgres_url, jobs.create_batch, TENANT, HOSTS[:3], {})
    claimed = in_transaction(postgres_url, jobs.claim_jobs, run_id="r", limit=3, batch_id=batch.id)
    lifecycle = JobLifecycle(get_crawler(settings_dict={"DATABASE_URL": postgres_url}))
    ends = [
        jobs.JobEnd(claimed[0].id, JobStatus.COMPLETE, result_data={"ok": 1}),
        jobs.JobEnd(claimed[1].id, JobStatus.COMPLETE, result_data={"bad": "\x00"}),
        jobs.JobEnd(claimed[2].id, JobStatus.FAILED, error="site down"),
    ]

    async def record() -> list[object]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in ends]
        lifecycle.ends = list(zip(ends, futures, strict=True))
        await lifecycle._record_ends()
        return [f.exception() or f.result() for f in futures]

    outcome = asyncio.run(record())
    assert outcome[0] is True and outcome[2] is True
    assert isinstance(outcome[1], Exception)
    assert {d: s for d, (s, _, _) in _statuses(postgres_url, batch.id).items()} == {
        "a.test": "complete",
        "b.test": "running",  # left to the reaper, as any unrecorded end
        "c.test": "failed",
    }


def test_a_group_that_lost_the_database_is_not_retried_job_by_job(caplog):
    """A group whose record failed on a transient error (here no server at all) has used its
    retries: every job of it gets that error at once, not the same retries again one by one."""
    import asyncio
    import logging

    from scrapy.utils.test import get_crawler

    from scrapersky.db.errors import is_transient
    from scrapersky.extensions import JobLifecycle
    from tests.support.ports import free_port

    dead = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/gone"
    crawler = get_crawler(settings_dict={"DATABASE_URL": dead, "SCRAPERSKY_STALE_AFTER": 1})
    lifecycle = JobLifecycle(crawler)
    ends = [jobs.JobEnd(1, JobStatus.COMPLETE), jobs.JobEnd(2, JobStatus.FAILED, error="down")]

    async def record() -> list[BaseException | None]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in ends]
        lifecycle.ends = list(zip(ends, futures, strict=True))
        await lifecycle._record_ends()
        return [f.exception() for f in futures]

    with caplog.at_level(logging.WARNING):
        errors = asyncio.run(record())
    assert all(error is not None and is_transient(error) for error in errors), errors
    retried = [r for r in caplog.records if "recording job state failed" in r.getMessage()]
    assert len(retried) == 1  # one retry within the 1 s budget, for the group only


def test_ends_of_scans_finishing_together_are_recorded_in_one_transaction(database_url):
    """A job end waits SCRAPERSKY_GATHER_MS for the ends of the run's other scans under way:
    those that come meanwhile share its transaction (one finished_at); the last scan's end,
    with none left to wait for, is recorded at once."""
    import asyncio
    from datetime import UTC, datetime

    from scrapy.utils.test import get_crawler

    from scrapersky.config.scan_options import ScanOptions
    from scrapersky.extensions import JobLifecycle
    from scrapersky.items import DomainItem
    from scrapersky.spiders.scan import Scan

    batch = in_transaction(database_url, jobs.create_batch, TENANT, HOSTS[:4], {})
    claimed = in_transaction(database_url, jobs.claim_jobs, run_id="r", limit=4, batch_id=batch.id)
    settings = {"DATABASE_URL": database_url, "SCRAPERSKY_GATHER_MS": 500}
    lifecycle = JobLifecycle(get_crawler(settings_dict=settings))
    scans = [Scan(job=job, options=ScanOptions(), schemes=["http"]) for job in claimed]

    async def end(scan: Scan, after: float) -> None:
        await asyncio.sleep(after)
        item = DomainItem(
            TENANT, scan.domain, "complete", datetime.now(UTC), job_id=scan.job.job_id
        )
        await lifecycle.item_scraped(item, None)

    async def run() -> None:
        for scan in scans:
            lifecycle.scan_started(scan)
        await asyncio.gather(
            *(end(scan, at) for scan, at in zip(scans, [0, 0.05, 0.1, 1.0], strict=True))
        )

    asyncio.run(run())
    with session_scope(database_url) as session:
        ended = {
            job.domain: (job.status, job.finished_at)
            for job in session.scalars(select(Job).where(Job.batch_id == batch.id))
        }
    assert {status for status, _ in ended.values()} == {JobStatus.COMPLETE}
    together = {ended[host][1] for host in HOSTS[:3]}
    assert len(together) == 1 and ended[HOSTS[3]][1] not in together


def test_a_claim_looks_past_the_last_one_first_and_still_finds_jobs_given_back(database_url):
    batch = in_transaction(database_url, jobs.create_batch, TENANT, HOSTS, {})

    def claim(after: int, limit: int = 2) -> list[jobs.ClaimedJob]:
        return in_transaction(
            database_url,
            jobs.claim_jobs,
            run_id="run-1",
            limit=limit,
            batch_id=batch.id,
            after=after,
        )

    first = claim(0)
    assert [job.domain for job in first] == HOSTS[:2]
    # The first job goes back to the batch (its run gave it back) while the run claims on.
    in_transaction(database_url, jobs.unclaim, "run-1", [first[0].id])
    second = claim(first[-1].id)
    assert [job.domain for job in second] == HOSTS[2:4]
    third = claim(second[-1].id)
    assert [job.domain for job in third] == HOSTS[4:]
    # Nothing is pending past the last claim: the job given back is found from the start.
    assert [job.domain for job in claim(third[-1].id)] == HOSTS[:1]
    assert claim(third[-1].id) == []


def test_a_batch_ends_with_its_last_job_counting_the_cancelled_ones(database_url):
    batch = in_transaction(database_url, jobs.create_batch, TENANT, HOSTS[:3], {})
    with session_scope(database_url) as session:
        first = session.scalars(
            select(Job).where(Job.batch_id == batch.id).order_by(Job.id)
        ).first()
        assert first is not None
        cancelled = jobs.cancel(session, first.job_id)
    assert cancelled is not None and cancelled.cancelled == 1
    claimed = in_transaction(
        database_url, jobs.claim_jobs, run_id="run-1", limit=2, batch_id=batch.id
    )
    ends = [jobs.JobEnd(job.id, JobStatus.COMPLETE) for job in claimed]
    in_transaction(database_url, jobs.finish_jobs, ends[:1])
    with session_scope(database_url) as session:
        row = session.get_one(BatchJob, batch.id)
        assert (row.status, row.progress) == (BatchStatus.RUNNING, round(2 / 3, 4))
    in_transaction(database_url, jobs.finish_jobs, ends[1:])
    with session_scope(database_url) as session:
        row = session.get_one(BatchJob, batch.id)
        assert (row.status, row.progress, row.completed_domains) == (BatchStatus.PARTIAL, 1.0, 2)


def test_a_group_of_ends_reaches_each_jobs_own_batch_domain_and_webhooks(database_url):
    """Two tenants' batches ended in one group: each job gets its own tenant's domain row (both
    tenants have a.test), each batch its own count, and only the tenant with a webhook gets
    deliveries, one per job and one for its batch."""
    other = "6fa459ea-ee8a-3ca4-894e-db77e160355e"
    ours = in_transaction(database_url, jobs.create_batch, TENANT, ["a.test", "b.test"], {})
    theirs = in_transaction(database_url, jobs.create_batch, other, ["a.test"], {})
    with session_scope(database_url) as session:
        rows = {tenant: Domain(tenant_id=tenant, domain="a.test") for tenant in (TENANT, other)}
        session.add_all(rows.values())
        session.flush()
        domain_ids = {tenant: row.id for tenant, row in rows.items()}
        webhooks.add(session, TENANT, "https://hooks.example.com/scans")
    claimed = [
        job
        for batch in (ours, theirs)
        for job in in_transaction(
            database_url, jobs.claim_jobs, run_id="r", limit=5, batch_id=batch.id
        )
    ]
    ends = [jobs.JobEnd(job.id, JobStatus.COMPLETE) for job in claimed]
    assert in_transaction(database_url, jobs.finish_jobs, ends) == [True, True, True]
    with session_scope(database_url) as session:
        ended = {(job.tenant_id, job.domain): job for job in session.scalars(select(Job))}
        assert ended[(TENANT, "a.test")].domain_id == domain_ids[TENANT]
        assert ended[(other, "a.test")].domain_id == domain_ids[other]
        assert ended[(TENANT, "b.test")].domain_id is None  # no row: nothing was stored
        for batch, total in ((ours, 2), (theirs, 1)):
            row = session.get_one(BatchJob, batch.id)
            assert (row.status, row.completed_domains) == (BatchStatus.COMPLETE, total)
        events = sorted(
            (delivery.event, delivery.payload.get("domain"))
            for delivery in session.scalars(select(WebhookDelivery))
        )
    assert events == [("batch.ended", None), ("job.ended", "a.test"), ("job.ended", "b.test")]
