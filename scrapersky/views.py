"""Jobs and batches as plain dicts: the one shape `scrapy status --json` and the HTTP API share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scrapersky.db.models import BatchJob, Job

JOB_FIELDS = ("id", "job_id", "run_id", "job_type", "tenant_id", "domain", "domain_id", "batch_id", "status",
              "progress", "result_data", "error", "attempts", "heartbeat_at", "started_at", "finished_at",
              "created_at", "updated_at")
BATCH_FIELDS = ("id", "batch_id", "tenant_id", "status", "total_domains", "completed_domains", "failed_domains",
                "progress", "options", "error", "start_time", "end_time", "created_at", "updated_at")


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
