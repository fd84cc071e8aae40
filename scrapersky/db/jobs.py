"""Job and batch records: creation, claiming, heartbeats and endings.

Every function works in the caller's session: the command, the HTTP request or the extension
callback opens the transaction (db.engine.session_scope) and decides what else belongs in it.
A batch's counters move in the same transaction as the job they count, so they never drift
from the job rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from scrapersky.core.clock import now
from scrapersky.core.domains import INVALID_PREFIX, InvalidDomain, standardize_domain
from scrapersky.core.messages import excerpt
from scrapersky.core.states import BatchStatus, JobStatus
from scrapersky.db import webhooks
from scrapersky.db.engine import rowcount
from scrapersky.db.history import read_validators
from scrapersky.db.models import BatchJob, Domain, Job

ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)  # a job or a batch that has yet to end

STALE_REASON = "stale: process died"
MAX_ID_LENGTH = 100  # longer than any id this project makes
MAX_INTEGER_ID = 2**63 - 1  # BIGINT; larger numbers overflow SQLite's driver


def new_public_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class ClaimedJob:
    """What a run needs to scan one claimed job."""

    id: int
    job_id: str
    tenant_id: str
    domain: str  # standardized
    batch_id: int | None
    options: dict[str, Any]
    # What earlier scans stored about the domain's sitemaps (db.history.read_validators).
    validators: dict[str, dict[str, Any]] = field(default_factory=dict)


def plain_id(ident: object) -> str | None:
    """An id as text, or None for what cannot be any id (empty, too long, control characters)."""
    text = str(ident).strip()
    if not text or len(text) > MAX_ID_LENGTH or not text.isprintable():
        return None
    return text


def integer_id(text: str) -> int | None:
    """The integer primary key an id names, if it is one: ASCII digits within BIGINT."""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_INTEGER_ID else None


def _job_rows(
    tenant_id: str,
    raw_domains: Iterable[str],
    options: dict[str, Any],
    *,
    run_id: str | None = None,
    batch_id: int | None = None,
) -> list[Job]:
    """The jobs of one run (run_id) or of one batch (batch_id)."""
    jobs: list[Job] = []
    seen: set[str] = set()
    for raw in raw_domains:
        job = Job(
            job_id=new_public_id(),
            tenant_id=tenant_id,
            domain=raw,
            options=options,
            run_id=run_id,
            batch_id=batch_id,
        )
        try:
            clean = standardize_domain(raw)
        except InvalidDomain as exc:
            # Rejected input is kept only as the short, escaped excerpt the error shows.
            job.domain = excerpt(raw)
            job.status, job.error, job.finished_at = JobStatus.FAILED, str(exc), now()
        else:
            if clean in seen:
                continue
            seen.add(clean)
            job.domain = clean
            job.status = JobStatus.PENDING
        jobs.append(job)
    return jobs


def add_jobs(
    session: Session,
    tenant_id: str,
    raw_domains: Sequence[str],
    *,
    run_id: str,
    options: dict[str, Any],
) -> list[Job]:
    """Jobs of one run given its domains directly (flushed: they have their ids); invalid
    domains become failed jobs."""
    jobs = _job_rows(tenant_id, raw_domains, options, run_id=run_id)
    session.add_all(jobs)
    session.flush()
    return jobs


def create_batch(
    session: Session, tenant_id: str, raw_domains: Sequence[str], options: dict[str, Any]
) -> BatchJob:
    """A batch and all its jobs, created up front (flushed): its domain list is its pending jobs."""
    batch = BatchJob(
        batch_id=new_public_id(),
        tenant_id=tenant_id,
        status=BatchStatus.PENDING,
        options=options,
    )
    session.add(batch)
    session.flush()
    jobs = _job_rows(tenant_id, raw_domains, options, batch_id=batch.id)
    session.add_all(jobs)
    batch.total_domains = len(jobs)
    batch.failed_domains = sum(1 for j in jobs if j.status == JobStatus.FAILED)
    batch.progress = batch.failed_domains / batch.total_domains if jobs else 1.0
    if batch.failed_domains == batch.total_domains:
        batch.status, batch.end_time = BatchStatus.FAILED, now()
        batch.error = "no valid domain" if jobs else "no domains"
    session.flush()
    return batch


def claim_jobs(
    session: Session,
    *,
    run_id: str,
    limit: int = 1,
    batch_id: int | None = None,
    job_ids: Sequence[int] | None = None,
    public_job_id: str | None = None,
    after: int = 0,
) -> list[ClaimedJob]:
    """Take up to `limit` pending jobs (of a batch, or of the given ids) for this run, each with
    what earlier scans stored about its domain's sitemaps; an empty list when none is left. A
    run claims as many jobs as it has free scan slots: one transaction for all of them, not two
    for each.

    `after`: the highest job id the run has claimed. The search starts past it, and goes back to
    the first job only when nothing is pending past it (jobs requeued or given back): from the
    first job, every claim of a large batch walked all the jobs claimed before it, in id order
    (the planner takes the primary key for `ORDER BY id LIMIT n` and filters row by row), 1 ms
    per claim at 5,000 claimed."""
    while True:
        query = select(Job).where(Job.status == JobStatus.PENDING).order_by(Job.id).limit(limit)
        if batch_id is not None:
            query = query.where(Job.batch_id == batch_id)
        if job_ids is not None:
            query = query.where(Job.id.in_(job_ids))
        if public_job_id is not None:
            query = query.where(Job.job_id == public_job_id)
        if session.get_bind().dialect.name == "postgresql":
            # Runs on many machines share a batch: each skips rows another run is claiming.
            query = query.with_for_update(skip_locked=True)
        found = session.scalars(query.where(Job.id > after)).all() if after else []
        if not found:
            found = session.scalars(query).all()
        if not found:
            return []
        stamp = now()
        taken = _claim(session, [job.id for job in found], run_id, stamp)
        claimed = [job for job in found if job.id in taken]
        for batch_pk in {job.batch_id for job in claimed if job.batch_id is not None}:
            session.execute(
                update(BatchJob)
                .where(BatchJob.id == batch_pk, BatchJob.status == BatchStatus.PENDING)
                .values(status=BatchStatus.RUNNING, start_time=stamp)
            )
        if claimed:
            # Only a domain with a row can have sitemaps stored: one look-up for the new ones.
            known = _domain_ids(session, claimed)
            return [
                ClaimedJob(
                    job.id,
                    job.job_id,
                    job.tenant_id,
                    job.domain,
                    job.batch_id,
                    dict(job.options or {}),
                    read_validators(session, job.tenant_id, job.domain)
                    if (job.tenant_id, job.domain) in known
                    else {},
                )
                for job in claimed
            ]
        # Every row read was claimed by another run in between (SQLite): look again. The
        # failed UPDATE began this transaction's write, so no other run claims meanwhile.


def _claim(session: Session, job_pks: list[int], run_id: str, stamp: datetime) -> set[int]:
    """The ids of those jobs this run took. Conditional on still being pending: SQLite has no
    SKIP LOCKED, and two runs may have read the same rows; only one of them changes each."""
    claim = (
        update(Job)
        .where(Job.id.in_(job_pks), Job.status == JobStatus.PENDING)
        .values(
            status=JobStatus.RUNNING,
            run_id=run_id,
            attempts=Job.attempts + 1,
            started_at=stamp,
            heartbeat_at=stamp,
            error=None,
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return set(session.scalars(claim))


def heartbeat(session: Session, progress: dict[int, float]) -> None:
    if not progress:
        return
    stamp = now()
    for job_pk, value in progress.items():
        session.execute(
            update(Job)
            .where(Job.id == job_pk, Job.status == JobStatus.RUNNING)
            .values(heartbeat_at=stamp, progress=round(min(max(value, 0.0), 1.0), 4))
        )


@dataclass(frozen=True)
class JobEnd:
    """How a run's job ended, to be recorded (finish_jobs)."""

    job_pk: int
    status: JobStatus
    error: str | None = None
    result_data: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None


def finish_jobs(
    session: Session, ends: Sequence[JobEnd], from_status: str = JobStatus.RUNNING
) -> list[bool]:
    """End jobs that are `from_status`, all in the caller's transaction; for each, False if it
    was not (it already ended elsewhere). A run's job ends arrive in groups: the group's jobs are
    locked and read in one statement, their domains found in one, their webhook deliveries added
    together and each batch counted once, not every job on its own (five statements each)."""
    if not ends:
        return []
    locked = session.scalars(
        select(Job)
        .where(Job.id.in_({end.job_pk for end in ends}))
        .order_by(Job.id)
        .with_for_update()
        .execution_options(populate_existing=True)  # as locked, not as the session last saw it
    ).all()
    running = {job.id: job for job in locked if job.status == from_status}
    domain_ids = _domain_ids(session, running.values())
    finished_at = now()
    ended: list[bool] = []
    counts: dict[int, list[int]] = {}  # batch: [complete, failed]
    events: list[tuple[str, dict[str, Any]]] = []
    for end in ends:
        job = running.pop(end.job_pk, None)  # a job given twice ends once
        ended.append(job is not None)
        if job is None:
            continue
        job.status, job.error, job.finished_at = end.status, end.error, finished_at
        job.domain_id = domain_ids.get((job.tenant_id, job.domain))
        job.progress = 1.0 if end.status == JobStatus.COMPLETE else job.progress
        if end.result_data is not None:
            job.result_data = end.result_data
        if end.stats is not None:
            job.stats = end.stats
        events.append((job.tenant_id, _job_event(job, finished_at)))
        if job.batch_id is not None:
            count = counts.setdefault(job.batch_id, [0, 0])
            count[0] += int(end.status == JobStatus.COMPLETE)
            count[1] += int(end.status == JobStatus.FAILED)
    webhooks.enqueue_many(session, "job.ended", events)
    for batch_pk, (complete, failed) in sorted(counts.items()):
        _count(session, batch_pk, complete, failed)
    return ended


def _domain_ids(session: Session, found: Iterable[Job]) -> dict[tuple[str, str], int]:
    """The domain rows of these jobs, by (tenant, domain), in one statement."""
    wanted = {(job.tenant_id, job.domain) for job in found}
    if not wanted:
        return {}
    rows = session.execute(
        select(Domain.tenant_id, Domain.domain, Domain.id).where(
            Domain.domain.in_({domain for _, domain in wanted})
        )
    )
    return {(tenant, domain): ident for tenant, domain, ident in rows if (tenant, domain) in wanted}


def _finish(
    session: Session,
    job_pk: int,
    status: JobStatus,
    *,
    error: str | None,
    from_status: str = JobStatus.RUNNING,
) -> bool:
    """finish_jobs for one job (the reaper's and cancel's ends)."""
    return finish_jobs(session, [JobEnd(job_pk, status, error=error)], from_status)[0]


def _job_event(job: Job, finished_at: datetime) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "domain": job.domain,
        "status": job.status,
        "error": job.error,
        "batch": job.batch_id is not None,
        "finished_at": finished_at.isoformat(),
    }


def _batch_event(batch: BatchJob) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "status": batch.status,
        "total_domains": batch.total_domains,
        "completed_domains": batch.completed_domains,
        "failed_domains": batch.failed_domains,
        "end_time": batch.end_time.isoformat() if batch.end_time else None,
    }


def _count(session: Session, batch_pk: int, done: int, failed: int) -> None:
    """Count jobs of a batch that ended complete or failed; end the batch once every job has."""
    session.execute(
        update(BatchJob)
        .where(BatchJob.id == batch_pk)
        .values(
            completed_domains=BatchJob.completed_domains + done,
            failed_domains=BatchJob.failed_domains + failed,
            updated_at=now(),
        )
    )
    session.flush()
    # The counters as the UPDATE left them; only this row is reloaded, not the caller's others.
    batch = session.get_one(BatchJob, batch_pk, populate_existing=True)
    # Ended: the counted complete and failed jobs, and the cancelled ones, which the counters do
    # not hold (a partial index finds them). Counting every ended job read the whole batch at
    # each end: quadratic in its size.
    cancelled = session.execute(
        select(func.count())
        .select_from(Job)
        .where(Job.batch_id == batch_pk, Job.status == JobStatus.CANCELLED)
    ).scalar_one()
    ended = batch.completed_domains + batch.failed_domains + cancelled
    batch.progress = round(ended / batch.total_domains, 4) if batch.total_domains else 1.0
    if ended >= batch.total_domains and batch.status in ACTIVE:
        if batch.completed_domains == batch.total_domains:
            batch.status = BatchStatus.COMPLETE
        elif batch.completed_domains == 0:
            batch.status = BatchStatus.FAILED
        else:
            batch.status = BatchStatus.PARTIAL
        batch.end_time = now()
        webhooks.enqueue(session, batch.tenant_id, "batch.ended", _batch_event(batch))


def reap_stale(
    session: Session, stale_after: float, max_attempts: int, pending_after: float | None = None
) -> dict[str, int]:
    """Running jobs whose heartbeat stopped: requeue batch jobs with attempts left, fail the rest.
    With pending_after, also fail jobs handed to a run that never claimed them in that time (the
    run died before it could: a database outage at start, a lost node), and the pending jobs of a
    batch nothing has worked on in that time."""
    cutoff = now() - timedelta(seconds=stale_after)
    counts = {"requeued": 0, "failed": 0}
    stale = session.scalars(
        select(Job).where(
            Job.status == JobStatus.RUNNING,
            or_(
                Job.heartbeat_at < cutoff,
                Job.heartbeat_at.is_(None) & (Job.started_at < cutoff),
            ),
        )
    ).all()
    for job in stale:
        if job.batch_id is not None and job.attempts < max_attempts:
            requeue = (
                update(Job)
                .where(Job.id == job.id, Job.status == JobStatus.RUNNING)
                .values(
                    status=JobStatus.PENDING,
                    run_id=None,
                    error=f"requeued after attempt {job.attempts}: {STALE_REASON}",
                )
            )
            counts["requeued"] += rowcount(session.execute(requeue))
        elif _finish(session, job.id, JobStatus.FAILED, error=STALE_REASON):
            counts["failed"] += 1
    if pending_after is not None:
        waited = now() - timedelta(seconds=pending_after)
        unclaimed = session.scalars(
            select(Job.id).where(
                Job.status == JobStatus.PENDING,
                Job.run_id.is_not(None),
                Job.batch_id.is_(None),
                Job.created_at < waited,
            )
        ).all()
        reason = f"never started: its run did not claim it within {pending_after:g} s"
        for job_pk in unclaimed:
            counts["failed"] += _finish(
                session, job_pk, JobStatus.FAILED, error=reason, from_status=JobStatus.PENDING
            )
        counts["failed"] += _fail_stalled_batches(session, waited, pending_after)
    return counts


def _fail_stalled_batches(session: Session, waited: datetime, pending_after: float) -> int:
    """Pending jobs of a batch that nothing has worked on for pending_after seconds (no job running,
    no job or batch row touched since): its runs are gone. They fail with a reason that says how
    to go on, so no job waits forever; `scrapy retry` puts them back."""
    touched = select(func.max(Job.updated_at)).where(Job.batch_id == BatchJob.id).scalar_subquery()
    stalled = session.scalars(
        select(BatchJob).where(
            BatchJob.status.in_(ACTIVE),
            BatchJob.updated_at < waited,
            select(Job.id)
            .where(Job.batch_id == BatchJob.id, Job.status == JobStatus.PENDING)
            .exists(),
            ~select(Job.id)
            .where(Job.batch_id == BatchJob.id, Job.status == JobStatus.RUNNING)
            .exists(),
            or_(touched.is_(None), touched < waited),
        )
    ).all()
    failed = 0
    for batch in stalled:
        reason = (
            f"never started: no run of batch {batch.batch_id} took it within {pending_after:g} s; "
            f"`scrapy retry {batch.batch_id}` requeues it"
        )
        pending = session.scalars(
            select(Job.id).where(Job.batch_id == batch.id, Job.status == JobStatus.PENDING)
        ).all()
        for job_pk in pending:
            failed += _finish(
                session, job_pk, JobStatus.FAILED, error=reason, from_status=JobStatus.PENDING
            )
    return failed


def unclaim(session: Session, run_id: str, job_pks: Sequence[int]) -> int:
    """Give back batch jobs this run claimed and never started (claimed ahead of a free slot,
    then the run ended): pending again, for another run, as if never claimed. Jobs of a batch
    no longer active are left to end_run."""
    if not job_pks:
        return 0
    active = select(BatchJob.id).where(BatchJob.status.in_(ACTIVE))
    return rowcount(
        session.execute(
            update(Job)
            .where(
                Job.id.in_(job_pks),
                Job.run_id == run_id,
                Job.status == JobStatus.RUNNING,
                Job.batch_id.in_(active),
            )
            .values(
                status=JobStatus.PENDING,
                run_id=None,
                attempts=Job.attempts - 1,
                started_at=None,
                heartbeat_at=None,
                progress=0.0,
            )
            .execution_options(synchronize_session=False)
        )
    )


def end_run(session: Session, run_id: str, status: JobStatus, error: str) -> int:
    """End every job of a run that is still pending or running (shutdown, cancel, crash)."""
    ended = 0
    ids = session.scalars(select(Job.id).where(Job.run_id == run_id, Job.status.in_(ACTIVE))).all()
    for job_pk in ids:
        current = session.scalar(select(Job.status).where(Job.id == job_pk))
        if current is not None:  # None: deleted meanwhile, nothing to end
            ended += _finish(session, job_pk, status, error=error, from_status=current)
    return ended


@dataclass(frozen=True)
class Cancellation:
    """What `cancel` did: pending jobs ended at once, and the runs still to stop for the running ones."""

    kind: str  # "job" or "batch"
    public_id: str
    cancelled: int
    runs: tuple[str, ...]


def cancel(
    session: Session, ident: str, tenant_id: str | None = None, reason: str = "cancelled"
) -> Cancellation | None:
    """Cancel a batch or a job by any id: pending jobs end `cancelled` at once (counters in the same
    transaction); running jobs are left to their runs, whose ids are returned for Scrapyd's cancel,
    and end `cancelled` when their run shuts down. A batch is `cancelled` from now on. None: no such id."""
    job: Job | None = None
    batch = find_batch(session, ident, tenant_id)
    if batch is not None:
        scope, kind, public_id = Job.batch_id == batch.id, "batch", batch.batch_id
    else:
        query = _by_any_id(Job, Job.job_id, ident)
        job = session.scalars(
            query.where(Job.tenant_id == tenant_id) if tenant_id else query
        ).first()
        if job is None:
            return None
        scope, kind, public_id = Job.id == job.id, "job", job.job_id
    # The batch first: jobs ended below then count toward a cancelled batch, never end it otherwise.
    ended_batch: BatchJob | None = None
    if batch is not None:
        end = (
            update(BatchJob)
            .where(BatchJob.id == batch.id, BatchJob.status.in_(ACTIVE))
            .values(status=BatchStatus.CANCELLED, error=reason, end_time=now())
        )
        if rowcount(session.execute(end)):
            ended_batch = batch
    pending = session.scalars(select(Job.id).where(scope, Job.status == JobStatus.PENDING)).all()
    for job_pk in pending:
        _finish(session, job_pk, JobStatus.CANCELLED, error=reason, from_status=JobStatus.PENDING)
    runs = session.scalars(
        select(Job.run_id).where(scope, Job.status == JobStatus.RUNNING).distinct()
    ).all()
    if (
        job is not None
        and runs
        and session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.run_id == runs[0], Job.status.in_(ACTIVE), ~scope)
        )
    ):
        # The run scans other jobs too: end this one here; the run's own ending cannot undo it.
        _finish(session, job.id, JobStatus.CANCELLED, error=reason)
        runs = []
    if ended_batch is not None:
        session.flush()
        session.refresh(ended_batch)  # its status and counters as the statements above left them
        webhooks.enqueue(session, ended_batch.tenant_id, "batch.ended", _batch_event(ended_batch))
    return Cancellation(kind, public_id, len(pending), tuple(run for run in runs if run))


def requeue_failed(session: Session, batch_pk: int, max_attempts: int | None = None) -> int:
    """Failed jobs of a batch become pending again, as a new attempt; the batch is active again and
    its counters move in the same transaction. Jobs already tried `max_attempts` times stay failed.
    Returns how many were requeued."""
    retriable = session.scalars(
        # A name that is not a domain fails the same way every time: it is not retried.
        select(Job).where(
            Job.batch_id == batch_pk,
            Job.status == JobStatus.FAILED,
            or_(Job.error.is_(None), Job.error.notlike(f"{INVALID_PREFIX}%")),
        )
    ).all()
    failed = [job for job in retriable if max_attempts is None or job.attempts < max_attempts]
    for job in failed:
        job.status, job.run_id, job.finished_at, job.progress = (
            JobStatus.PENDING,
            None,
            None,
            0.0,
        )
        job.error = f"retry after attempt {job.attempts}: {job.error}"[:1000]
    if failed:
        session.flush()
        batch = session.get_one(BatchJob, batch_pk, with_for_update=True)
        ended = session.execute(
            select(func.count())
            .select_from(Job)
            .where(Job.batch_id == batch_pk, Job.status.notin_(ACTIVE))
        ).scalar_one()
        batch.failed_domains -= len(failed)
        batch.status, batch.end_time, batch.error = BatchStatus.RUNNING, None, None
        batch.progress = round(ended / batch.total_domains, 4) if batch.total_domains else 1.0
    return len(failed)


def out_of_attempts(session: Session, batch_pk: int, max_attempts: int) -> int:
    """Failed jobs of a batch (names that are not domains aside) tried `max_attempts` times or more."""
    return session.execute(
        select(func.count())
        .select_from(Job)
        .where(
            Job.batch_id == batch_pk,
            Job.status == JobStatus.FAILED,
            Job.attempts >= max_attempts,
            or_(Job.error.is_(None), Job.error.notlike(f"{INVALID_PREFIX}%")),
        )
    ).scalar_one()


# The two kinds of record found by any of their ids.
_Record = TypeVar("_Record", Job, BatchJob)


def _by_any_id(
    model: type[_Record],
    public_column: InstrumentedAttribute[str],
    text: str,
    tenant_id: str | None = None,
) -> Select[_Record]:
    conditions = [public_column == text]
    if (number := integer_id(text)) is not None:
        conditions.append(model.id == number)
    if model is Job:
        conditions.append(Job.run_id == text)
    query = select(model).where(or_(*conditions)).order_by(model.id.desc())
    # A tenant's lookups never match another tenant's rows, whatever the id form.
    return query.where(model.tenant_id == tenant_id) if tenant_id else query


def find_jobs(session: Session, ident: str | int, tenant_id: str | None = None) -> list[Job]:
    """Jobs matching an integer id, a public job id or a Scrapyd run id (none for a malformed id)."""
    text = plain_id(ident)
    if text is None:
        return []
    return list(session.scalars(_by_any_id(Job, Job.job_id, text, tenant_id)).all())


def find_batch(session: Session, ident: str | int, tenant_id: str | None = None) -> BatchJob | None:
    text = plain_id(ident)
    if text is None:
        return None
    return session.scalars(_by_any_id(BatchJob, BatchJob.batch_id, text, tenant_id)).first()


def batch_jobs(
    session: Session, batch_pk: int, *, after: int = 0, limit: int | None = None
) -> list[Job]:
    """A batch's jobs in id order; `after` and `limit` page through them."""
    query = (
        select(Job).where(Job.batch_id == batch_pk, Job.id > after).order_by(Job.id).limit(limit)
    )
    return list(session.scalars(query).all())


def latest(
    session: Session, limit: int = 10, tenant_id: str | None = None
) -> tuple[list[Job], list[BatchJob]]:
    jobs = select(Job).order_by(Job.id.desc()).limit(limit)
    batches = select(BatchJob).order_by(BatchJob.id.desc()).limit(limit)
    if tenant_id:
        jobs, batches = (
            jobs.where(Job.tenant_id == tenant_id),
            batches.where(BatchJob.tenant_id == tenant_id),
        )
    return list(session.scalars(jobs).all()), list(session.scalars(batches).all())


def batches_page(
    session: Session, tenant_id: str | None, *, after: int = 0, limit: int = 25
) -> list[BatchJob]:
    """A tenant's batches, newest first; `after` (a batch's integer id) continues below it."""
    query = select(BatchJob).order_by(BatchJob.id.desc()).limit(limit)
    if after:
        query = query.where(BatchJob.id < after)
    if tenant_id:
        query = query.where(BatchJob.tenant_id == tenant_id)
    return list(session.scalars(query).all())


def status_counts(session: Session, batch_pk: int) -> dict[str, int]:
    """How many of the batch's jobs are in each status, and how many runs are working on it."""
    found = dict(
        session.execute(
            select(Job.status, func.count()).where(Job.batch_id == batch_pk).group_by(Job.status)
        ).all()
    )
    found["runs"] = (
        session.scalar(
            select(func.count(func.distinct(Job.run_id))).where(
                Job.batch_id == batch_pk, Job.status == JobStatus.RUNNING
            )
        )
        or 0
    )
    return found
