"""What scans changed about a domain: the scan_changes rows, read for `scrapy changes` and changes.json."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, or_, select
from sqlalchemy.orm import Session

from scrapersky.core.errors import NotFound as NotFound  # raised here; callers import it from here
from scrapersky.db.jobs import find_jobs
from scrapersky.db.models import Domain, Job, ScanChange

FIELDS = ("changed_at", "job_id", "kind", "subject", "old", "new")


def domain_changes(
    session: Session,
    tenant_id: str,
    domain: str,
    *,
    since: datetime | None = None,
    scan: str | None = None,
) -> dict[str, Any]:
    """The domain's changes, oldest first: all of them, those recorded at or after `since`, or
    those of the scans that started after the scan `scan` (any job id)."""
    found = session.execute(
        select(Domain.id, Domain.domain, Domain.last_scan, Domain.sitemap_urls).where(
            Domain.tenant_id == tenant_id, Domain.domain == domain
        )
    ).first()
    if found is None:
        raise NotFound(f"no domain {domain!r} for tenant {tenant_id}")
    query = (
        select(
            ScanChange.changed_at,
            Job.job_id,
            ScanChange.kind,
            ScanChange.subject,
            ScanChange.old,
            ScanChange.new,
        )
        .outerjoin(Job, Job.id == ScanChange.job_id)
        .where(ScanChange.domain_id == found.id)
        .order_by(ScanChange.changed_at, ScanChange.id)
    )
    if since is not None:
        query = query.where(ScanChange.changed_at >= since)
    if scan is not None:
        jobs = [job for job in find_jobs(session, scan, tenant_id) if job.domain == found.domain]
        if not jobs or jobs[0].started_at is None:
            raise NotFound(f"no scan {scan!r} of {domain}")
        query = query.where(
            ScanChange.changed_at > jobs[0].started_at,
            or_(ScanChange.job_id.is_(None), ScanChange.job_id != jobs[0].id),
        )
    changes = [_view(row._mapping) for row in session.execute(query)]
    return {
        "tenant_id": tenant_id,
        "domain": found.domain,
        "sitemap_urls": found.sitemap_urls,
        "last_scan": _plain(found.last_scan),
        "changes": changes,
    }


def _view(row: RowMapping) -> dict[str, Any]:
    return {name: _plain(row[name]) for name in FIELDS}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
