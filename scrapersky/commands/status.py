from __future__ import annotations

import json
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from sqlalchemy.orm import Session

from scrapersky.commands.base import ProjectCommand, print_json
from scrapersky.config import to_tenant
from scrapersky.core.errors import NotFound
from scrapersky.core.messages import excerpt
from scrapersky.db import jobs
from scrapersky.db.engine import session_scope
from scrapersky.db.views import batch_view, job_view
from scrapersky.scheduling.reaper import JobTimes


class Command(ProjectCommand, ScrapyCommand):
    def syntax(self) -> str:
        return "[ID] [--json] [--tenant-id UUID]"

    def short_desc(self) -> str:
        return "Show a job or batch (integer id, public id or Scrapyd run id), or the latest ones"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("--tenant-id", default=None, help="only this tenant's jobs and batches")
        parser.add_argument("--limit", type=int, default=10, help="how many of the latest to list")

    def execute(self, args: list[str], opts) -> None:
        if len(args) > 1:
            raise UsageError("give at most one id")
        settings = self.settings
        tenant = to_tenant(opts.tenant_id) if opts.tenant_id else None
        url = self.ready_database()
        times = JobTimes.from_settings(settings)
        # Looking is enough to end jobs whose process died: in a write transaction of its own,
        # before the answer's read transaction.
        with session_scope(url) as session:
            times.reap(session)
        found = (
            self._lookup(url, args[0], tenant) if args else self._latest(url, opts.limit, tenant)
        )
        if found is None:
            raise NotFound(f"no job or batch with id {excerpt(args[0])!r}")
        if opts.json:
            print_json(found)
        else:
            _show(found)

    def _lookup(self, url: str, ident: str, tenant: str | None) -> dict[str, Any] | None:
        with session_scope(url) as session:  # one read transaction for the whole answer
            return _found(session, ident, tenant)

    def _latest(self, url: str, limit: int, tenant: str | None) -> dict[str, Any]:
        with session_scope(url) as session:
            latest_jobs, latest_batches = jobs.latest(session, limit, tenant)
        return {
            "jobs": [job_view(j) for j in latest_jobs],
            "batches": [batch_view(b) for b in latest_batches],
        }


def _show(found: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    console = Console()
    if "job" in found:
        table = Table(title=f"job {found['job']['job_id']}", show_header=False)
        for key, value in found["job"].items():
            if key not in {"stats"}:
                table.add_row(key, _cell(value))
        console.print(table)
        return
    if "batch" in found:
        batch = found["batch"]
        table = Table(title=f"batch {batch['batch_id']}", show_header=False)
        for key, value in batch.items():
            if key != "jobs":
                table.add_row(key, _cell(value))
        table.add_row("progress bar", ProgressBar(total=1.0, completed=batch["progress"], width=40))
        console.print(table)
        found = {"jobs": batch.get("jobs", [])}
    if found.get("batches"):
        table = Table(title="latest batches")
        for column in ("id", "batch_id", "status", "total", "complete", "failed", "progress"):
            table.add_column(column)
        for b in found["batches"]:
            table.add_row(
                str(b["id"]),
                b["batch_id"],
                b["status"],
                str(b["total_domains"]),
                str(b["completed_domains"]),
                str(b["failed_domains"]),
                f"{b['progress']:.0%}",
            )
        console.print(table)
    table = Table(title="jobs")
    for column in ("id", "job_id", "domain", "status", "progress", "urls", "error"):
        table.add_column(column)
    for j in found.get("jobs", []):
        urls = (j.get("result_data") or {}).get("urls_listed", "")
        table.add_row(
            str(j["id"]),
            j["job_id"],
            j["domain"],
            j["status"],
            f"{j['progress']:.0%}",
            str(urls),
            (j.get("error") or "")[:80],
        )
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)[:200]
    return "" if value is None else str(value)


def _found(session: Session, ident: str, tenant: str | None) -> dict[str, Any] | None:
    """What the id names: a batch (with its jobs), a job, or the jobs of a run."""
    batch = jobs.find_batch(session, ident, tenant)
    if batch is not None and (
        batch.batch_id == ident.strip() or jobs.integer_id(ident.strip()) is None
    ):
        return {"batch": batch_view(batch, jobs.batch_jobs(session, batch.id))}
    found = jobs.find_jobs(session, ident, tenant)
    if len(found) == 1:
        return {"job": job_view(found[0])}
    if found:
        return {"jobs": [job_view(j) for j in found]}
    if batch is not None:
        return {"batch": batch_view(batch, jobs.batch_jobs(session, batch.id))}
    return None
