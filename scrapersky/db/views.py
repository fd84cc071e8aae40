"""Rows as plain dicts: the one shape `scrapy status --json` and the HTTP API share."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from scrapersky.db.models import DOMAIN_METADATA_COLUMNS, LISTING_COLUMNS, BatchJob, Job

JOB_FIELDS = (
    "id",
    "job_id",
    "run_id",
    "job_type",
    "tenant_id",
    "domain",
    "domain_id",
    "batch_id",
    "status",
    "progress",
    "result_data",
    "error",
    "attempts",
    "heartbeat_at",
    "started_at",
    "finished_at",
    "created_at",
    "updated_at",
)
BATCH_FIELDS = (
    "id",
    "batch_id",
    "tenant_id",
    "status",
    "total_domains",
    "completed_domains",
    "failed_domains",
    "progress",
    "options",
    "error",
    "start_time",
    "end_time",
    "created_at",
    "updated_at",
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def job_view(job: Job, with_stats: bool = False) -> dict[str, Any]:
    view = {name: _plain(getattr(job, name)) for name in JOB_FIELDS}
    if with_stats:
        view["stats"] = job.stats
    return view


def batch_view(batch: BatchJob, jobs: list[Job] | None = None) -> dict[str, Any]:
    view = {name: _plain(getattr(batch, name)) for name in BATCH_FIELDS}
    if jobs is not None:
        view["jobs"] = [job_view(j) for j in jobs]
    return view


DOMAIN_FIELDS = (
    "id",
    "tenant_id",
    "domain",
    "status",
    *DOMAIN_METADATA_COLUMNS,
    "domain_metadata",
    "sitemap_urls",
    "total_sitemaps",
    "last_scan",
    "last_error",
    "created_at",
    "updated_at",
)
SITEMAP_FIELDS = (
    "id",
    "url",
    "sitemap_type",
    "discovery_method",
    "parent_id",
    "url_count",
    "size_bytes",
    "is_gzipped",
    "status_code",
    "error_message",
    "last_modified",
    "fetched_at",
)
PAGE_FIELDS = (
    "id",
    "url",
    "sitemap_file_id",
    *LISTING_COLUMNS,
    "status_code",
    "title",
    "description",
    "fetched_at",
)


def row_view(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in fields}


def job_links(job: Job) -> dict[str, str]:
    """Where a client reads the job and, once it has run, its domain and pages."""
    links = {"job": f"jobstatus.json?job={job.job_id}"}
    if job.domain_id is not None:
        where = f"domain={quote(job.domain)}&tenant_id={job.tenant_id}"
        links["domain"] = f"domain.json?{where}"
        links["pages"] = f"pages.json?{where}"
    return links
