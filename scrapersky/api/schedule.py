"""What scan.json and batch.json share: scan options from the request, and runs on Scrapyd."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import threads
from twisted.web import http

from scrapersky.api.base import Fields, Service, WebError
from scrapersky.arguments import to_render
from scrapersky.config import ConfigError, project_settings
from scrapersky.scheduling.client import PROJECT, SPIDER, ScrapydClient, ScrapydError, new_run_id
from scrapersky.scheduling.runs import schedule_runs


def scan_options(fields: Fields) -> tuple[str, dict[str, Any], float]:
    """(tenant, stored options, Scrapyd priority) from the request, or a 400."""
    tenant = fields.tenant(default=project_settings().get("SCRAPERSKY_DEFAULT_TENANT"))
    max_pages = fields.number("max_pages", 0)
    try:
        render = to_render(fields.text("render") or "auto")
    except ConfigError as exc:
        raise WebError(http.BAD_REQUEST, str(exc)) from None
    priority = fields.text("priority") or "0"
    try:
        return tenant, {"max_pages": max_pages, "render": render}, float(priority)
    except ValueError:
        raise WebError(http.BAD_REQUEST, f"priority must be a number, got {priority!r}") from None


class Scheduling(Service):
    allowed = ("POST",)

    def cluster(self) -> ScrapydClient | None:
        """The nodes of SCRAPYD_URLS when it is set; None: this node alone."""
        settings = project_settings()
        urls = settings.get("SCRAPYD_URLS").strip()
        if not urls:
            return None
        try:
            return ScrapydClient(
                urls,
                username=settings.get("SCRAPYD_USERNAME"),
                password=settings.get("SCRAPYD_PASSWORD"),
            )
        except ConfigError as exc:
            raise WebError(http.SERVICE_UNAVAILABLE, f"SCRAPYD_URLS: {exc}") from None

    def schedule(
        self,
        args: dict[str, str],
        count: int,
        priority: float,
        run_id: Callable[[], str] = new_run_id,
    ) -> list[dict[str, str]]:
        """Schedule runs on the least-loaded of SCRAPYD_URLS when that is set, else on this node."""
        client = self.cluster()
        if client is not None:
            runs, _skipped = schedule_runs(client, args, count, priority=priority, run_id=run_id)
            return [{"node": run.node, "run_id": run.run_id} for run in runs]
        if PROJECT not in self.root.scheduler.queues:
            raise ScrapydError(
                f"project {PROJECT!r} is not deployed on this node: run scrapyd-deploy"
            )
        from twisted.internet import reactor  # Scrapyd's own, installed before services load

        scheduled = []
        for _ in range(count):
            run = run_id()
            # Scrapyd's queues belong to the reactor thread.
            threads.blockingCallFromThread(
                reactor,
                self.root.scheduler.schedule,
                PROJECT,
                SPIDER,
                priority=priority,
                settings={},
                _job=run,
                **args,
            )
            scheduled.append({"node": self.root.node_name, "run_id": run})
        return scheduled
