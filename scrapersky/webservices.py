"""ScraperSky's HTTP API on Scrapyd's port: scan.json, batch.json, jobstatus.json, batchstatus.json, changes.json,
health.json.

Mounted by the `[services]` section of scrapyd.conf, so they run inside the Scrapyd process
behind its basic auth. They follow Scrapyd's JSON conventions (`node_name`, `status` "ok" or
"error", `message`), with HTTP status codes: 400 bad input, 404 unknown id, 405 wrong method,
503 database or nodes unavailable. The database is DATABASE_URL from Scrapyd's environment.
Database and network work runs in Twisted's thread pool so the node keeps launching runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import threads
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import http, server
from scrapyd.webservice import WsResource

from scrapersky import settings as project_settings
from scrapersky.arguments import RENDER_MODES, read_domain_list
from scrapersky.config import ConfigError, to_datetime, to_int, to_tenant
from scrapersky.db import jobs
from scrapersky.db.changes import NotFound, domain_changes
from scrapersky.db.schema import SCHEMA_HEAD, current_revision, ensure_schema, first_line
from scrapersky.domains import InvalidDomain, standardize_domain
from scrapersky.scheduling.client import PROJECT, SPIDER, ScrapydClient, ScrapydError, new_run_id
from scrapersky.scheduling.planner import run_count
from scrapersky.scheduling.runs import schedule_runs
from scrapersky.views import batch_view, job_view

log = Logger()
DEFAULT_SLOTS = 2


class WebError(Exception):
    """An answer other than 200: an HTTP status and a one-line message, plus any fields worth keeping."""

    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


class Fields:
    """Query and form fields (multipart uploads included) of one request."""

    def __init__(self, args: dict[bytes, list[bytes]]) -> None:
        self.args = args

    def raw(self, name: str) -> list[bytes]:
        return self.args.get(name.encode(), [])

    def all(self, name: str) -> list[str]:
        try:
            return [value.decode("utf-8") for value in self.raw(name)]
        except UnicodeDecodeError:
            raise WebError(http.BAD_REQUEST, f"{name} is not UTF-8 text") from None

    def text(self, name: str, *, required: bool = False) -> str:
        values = [value.strip() for value in self.all(name)]
        if required and not (values and values[0]):
            raise WebError(http.BAD_REQUEST, f"'{name}' parameter is required")
        return values[0] if values else ""


class Service(WsResource):
    """Answers `answer(fields)` from a worker thread, as JSON in Scrapyd's shape."""

    allowed: tuple[str, ...] = ("GET",)

    @property
    def methods(self) -> str:  # type: ignore[override]
        return ", ".join(("OPTIONS", "HEAD", *self.allowed) if "GET" in self.allowed else ("OPTIONS", *self.allowed))

    def answer(self, fields: Fields) -> dict[str, Any]:
        raise NotImplementedError

    def render(self, txrequest):
        method = txrequest.method.decode("latin-1")
        if method == "OPTIONS":
            return super().render(txrequest)
        if method == "HEAD":
            method = "GET"
        if method not in self.allowed:
            return self._encode(txrequest, http.NOT_ALLOWED, _error(f"{method} not allowed: use {self.methods}"))
        gone: list[bool] = []
        txrequest.notifyFinish().addErrback(lambda _: gone.append(True))
        deferred = threads.deferToThread(self.answer, Fields(txrequest.args))
        deferred.addCallbacks(lambda data: (http.OK, {**data, "status": "ok"}), self._failed)
        deferred.addCallback(lambda outcome: gone or self._finish(txrequest, *outcome))
        return server.NOT_DONE_YET

    def _failed(self, failure: Failure) -> tuple[int, dict[str, Any]]:
        exc = failure.value
        if isinstance(exc, WebError):
            return exc.code, _error(exc.message, **exc.extra)
        if isinstance(exc, SQLAlchemyError):
            return http.SERVICE_UNAVAILABLE, _error(f"database error: {first_line(exc)}")
        log.failure("unexpected error in {service}", failure, service=type(self).__name__)
        return http.INTERNAL_SERVER_ERROR, _error(f"{type(exc).__name__}: {exc}")

    def _finish(self, txrequest, code: int, data: dict[str, Any]) -> None:
        txrequest.write(self._encode(txrequest, code, data))
        txrequest.finish()

    def _encode(self, txrequest, code: int, data: dict[str, Any]) -> bytes:
        data["node_name"] = self.root.node_name
        content = self.json_encoder.encode(data).encode() + b"\n"
        txrequest.setResponseCode(code)
        txrequest.setHeader("Content-Type", "application/json")
        txrequest.setHeader("Access-Control-Allow-Origin", "*")
        txrequest.setHeader("Access-Control-Allow-Methods", self.methods)
        txrequest.setHeader("Access-Control-Allow-Headers", "X-Requested-With")
        txrequest.setHeader("Content-Length", str(len(content)))
        return content

    # --- shared by the services -----------------------------------------------------------

    @property
    def database(self) -> str:
        return project_settings.DATABASE_URL

    def ready_database(self) -> str:
        """The database URL once its schema is current (SQLite migrates itself, PostgreSQL must be migrated)."""
        url = self.database
        try:
            ensure_schema(url)
        except ConfigError as exc:
            raise WebError(http.SERVICE_UNAVAILABLE, str(exc)) from None
        return url

    def reap(self, url: str) -> None:
        jobs.reap_stale(url, project_settings.SCRAPERSKY_STALE_AFTER, project_settings.SCRAPERSKY_MAX_ATTEMPTS)

    def cluster(self) -> ScrapydClient | None:
        """The nodes of SCRAPYD_URLS when Scrapyd's environment sets it; None: this node alone."""
        urls = os.environ.get("SCRAPYD_URLS", "").strip()
        if not urls:
            return None
        try:
            return ScrapydClient(urls, username=project_settings.SCRAPYD_USERNAME,
                                 password=project_settings.SCRAPYD_PASSWORD)
        except ConfigError as exc:
            raise WebError(http.SERVICE_UNAVAILABLE, f"SCRAPYD_URLS: {exc}") from None

    def schedule(self, args: dict[str, str], count: int, priority: float,
                 run_id: Callable[[], str] = new_run_id) -> list[dict[str, str]]:
        """Schedule runs on the least-loaded of SCRAPYD_URLS when that is set, else on this node."""
        client = self.cluster()
        if client is not None:
            runs, _skipped = schedule_runs(client, args, count, priority=priority, run_id=run_id)
            return [{"node": run.node, "run_id": run.run_id} for run in runs]
        if PROJECT not in self.root.scheduler.queues:
            raise ScrapydError(f"project {PROJECT!r} is not deployed on this node: run scrapyd-deploy")
        from twisted.internet import reactor  # Scrapyd's own, installed before services load

        scheduled = []
        for _ in range(count):
            run = run_id()
            # Scrapyd's queues belong to the reactor thread.
            threads.blockingCallFromThread(
                reactor, self.root.scheduler.schedule, PROJECT, SPIDER, priority=priority, settings={}, _job=run, **args
            )
            scheduled.append({"node": self.root.node_name, "run_id": run})
        return scheduled


def _error(message: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "status": "error", "message": message}


def _scan_options(fields: Fields) -> tuple[str, dict[str, Any], float]:
    """(tenant, stored options, Scrapyd priority) from the request, or a 400."""
    try:
        tenant = to_tenant(fields.text("tenant_id") or project_settings.SCRAPERSKY_DEFAULT_TENANT)
        max_pages = to_int(fields.text("max_pages") or 0, "max_pages", minimum=0)
    except ConfigError as exc:
        raise WebError(http.BAD_REQUEST, str(exc)) from None
    render = (fields.text("render") or "auto").lower()
    if render not in RENDER_MODES:
        raise WebError(http.BAD_REQUEST, f"render must be one of {', '.join(RENDER_MODES)}, got {render!r}")
    priority = fields.text("priority") or "0"
    try:
        return tenant, {"max_pages": max_pages, "render": render}, float(priority)
    except ValueError:
        raise WebError(http.BAD_REQUEST, f"priority must be a number, got {priority!r}") from None


class Scan(Service):
    """POST domain [, tenant_id, max_pages, render, priority]: a pending job and a run to scan it."""

    allowed = ("POST",)

    def answer(self, fields: Fields) -> dict[str, Any]:
        raw = fields.text("domain", required=True)
        tenant, options, priority = _scan_options(fields)
        try:
            domain = standardize_domain(raw)
        except InvalidDomain as exc:
            raise WebError(http.BAD_REQUEST, str(exc)) from None
        url = self.ready_database()
        run_id = new_run_id()
        [created] = jobs.create_jobs(url, tenant, [domain], run_id=run_id, options=options)
        try:
            [run] = self.schedule({"job_id": created.job_id}, 1, priority, run_id=lambda: run_id)
        except ScrapydError as exc:
            jobs.end_run(url, run_id, "failed", f"not scheduled: {exc}")
            raise WebError(http.SERVICE_UNAVAILABLE, str(exc), job_id=created.job_id) from None
        [job] = jobs.find_jobs(url, created.job_id)
        return {"job_id": job.job_id, "run_id": run["run_id"], "node": run["node"], "job": job_view(job)}


class Batch(Service):
    """POST domains (repeated, or newline/comma separated text) and/or a domains_file upload
    [, tenant_id, max_pages, render, priority, slots]: a batch, its pending jobs, and runs to work it."""

    allowed = ("POST",)

    def answer(self, fields: Fields) -> dict[str, Any]:
        names = [name for text in fields.all("domains") for name in read_domain_list(text)]
        for upload in fields.raw("domains_file"):
            names += read_domain_list(upload.decode("utf-8", "replace"))
        if not names:
            raise WebError(http.BAD_REQUEST, "no domains given: send 'domains' or upload a 'domains_file'")
        if not any(_valid(name) for name in names):
            raise WebError(http.BAD_REQUEST, f"no valid domain among the {len(names)} given")
        tenant, options, priority = _scan_options(fields)
        try:
            slots = to_int(fields.text("slots") or DEFAULT_SLOTS, "slots", minimum=1)
        except ConfigError as exc:
            raise WebError(http.BAD_REQUEST, str(exc)) from None
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
        return {"batch_id": batch.batch_id, "batch": batch_view(jobs.find_batch(url, batch.id)), "runs": runs}


class JobStatus(Service):
    """GET job=ID (integer id, public id or Scrapyd run id) [, tenant_id]: the job, or the jobs of a run."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        ident = fields.text("job", required=True)
        tenant = _tenant_filter(fields)
        url = self.ready_database()
        self.reap(url)
        found = jobs.find_jobs(url, ident, tenant)
        if not found:
            raise WebError(http.NOT_FOUND, f"no job with id {ident!r}")
        if len(found) == 1:
            return {"job": job_view(found[0], with_stats=True)}
        return {"jobs": [job_view(job) for job in found]}


class BatchStatus(Service):
    """GET batch=ID (integer id, public id, or the Scrapyd run id of one of its runs) [, tenant_id]:
    the batch with every job's result."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        ident = fields.text("batch", required=True)
        tenant = _tenant_filter(fields)
        url = self.ready_database()
        self.reap(url)
        batch = jobs.find_batch(url, ident, tenant)
        if batch is None:
            by_run = [job for job in jobs.find_jobs(url, ident, tenant) if job.run_id == ident and job.batch_id]
            batch = jobs.find_batch(url, by_run[0].batch_id, tenant) if by_run else None
        if batch is None:
            raise WebError(http.NOT_FOUND, f"no batch with id {ident!r}")
        return {"batch": batch_view(batch, jobs.batch_jobs(url, batch.id))}


class Changes(Service):
    """GET domain [, tenant_id, since (ISO date/time) or scan (a job id)]: what the domain's scans changed."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        raw = fields.text("domain", required=True)
        since, scan = fields.text("since"), fields.text("scan")
        if since and scan:
            raise WebError(http.BAD_REQUEST, "give since or scan, not both")
        try:
            tenant = to_tenant(fields.text("tenant_id") or project_settings.SCRAPERSKY_DEFAULT_TENANT)
            moment = to_datetime(since, "since") if since else None
            domain = standardize_domain(raw)
        except (ConfigError, InvalidDomain) as exc:
            raise WebError(http.BAD_REQUEST, str(exc)) from None
        try:
            return domain_changes(self.ready_database(), tenant, domain, since=moment, scan=scan or None)
        except NotFound as exc:
            raise WebError(http.NOT_FOUND, str(exc)) from None


class Health(Service):
    """GET: the database answers and its schema is current (503 otherwise)."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        url = self.database
        try:
            current, head = current_revision(url), SCHEMA_HEAD
        except ConfigError as exc:
            raise WebError(http.SERVICE_UNAVAILABLE, str(exc)) from None
        except SQLAlchemyError as exc:
            raise WebError(http.SERVICE_UNAVAILABLE, f"database unreachable: {first_line(exc)}") from None
        if current != head:
            raise WebError(http.SERVICE_UNAVAILABLE,
                           f"database schema is at {current or 'nothing'}, expected {head}: run `scrapy migrate`",
                           revision=current, head=head)
        return {"database": "ok", "revision": current, "head": head}


def _valid(name: str) -> bool:
    try:
        standardize_domain(name)
    except InvalidDomain:
        return False
    return True


def _tenant_filter(fields: Fields) -> str | None:
    value = fields.text("tenant_id")
    try:
        return to_tenant(value) if value else None
    except ConfigError as exc:
        raise WebError(http.BAD_REQUEST, str(exc)) from None

