"""Tenant-free aggregate numbers for monitoring: counts by state, recent scan durations and errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scrapersky.core.clock import now
from scrapersky.core.domains import INVALID_PREFIX
from scrapersky.core.states import JobStatus
from scrapersky.db.models import BatchJob, Domain, Job

WINDOW = timedelta(hours=24)  # durations, errors and write latency: jobs that ended in this window
RECENT_LIMIT = 100_000  # the most recent ended jobs looked at, whatever the window holds
_KIND = re.compile(r"[a-z][a-z ]{0,23}")


@dataclass
class Aggregates:
    jobs: dict[str, int] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)
    domains: int = 0
    urls_listed: int = 0
    durations: list[float] = field(default_factory=list)  # seconds, ended jobs of the window
    errors: dict[str, int] = field(default_factory=dict)  # failed jobs of the window by kind
    max_flush_seconds: float = 0.0


def error_kind(error: str | None) -> str:
    """'unreachable: DNS lookup failed …' → 'unreachable': the words before the first colon, as a label.
    Only plain words make a label, so no domain name, URL or tenant ever becomes one."""
    if not error:
        return "unknown"
    if error.startswith(INVALID_PREFIX):
        return "invalid_domain"
    head = error.split(":", 1)[0].strip().lower()
    return head.replace(" ", "_") if _KIND.fullmatch(head) else "other"


def collect(session: Session) -> Aggregates:
    found = Aggregates()
    since = now() - WINDOW
    found.jobs = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    found.batches = dict(
        session.execute(select(BatchJob.status, func.count()).group_by(BatchJob.status)).all()
    )
    found.domains, found.urls_listed = session.execute(
        select(func.count(), func.coalesce(func.sum(Domain.sitemap_urls), 0))
    ).one()
    ended = session.execute(
        select(Job.status, Job.started_at, Job.finished_at, Job.error, Job.stats)
        .where(Job.finished_at >= since)
        .order_by(Job.finished_at.desc())
        .limit(RECENT_LIMIT)
    ).all()
    for status, started, finished, error, stats in ended:
        if started is not None and status in (JobStatus.COMPLETE, JobStatus.FAILED):
            found.durations.append(max((finished - started).total_seconds(), 0.0))
        if status == JobStatus.FAILED:
            kind = error_kind(error)
            found.errors[kind] = found.errors.get(kind, 0) + 1
        flush = (stats or {}).get("scrapersky/store/max_flush_seconds")
        if isinstance(flush, (int, float)):
            found.max_flush_seconds = max(found.max_flush_seconds, float(flush))
    return found
