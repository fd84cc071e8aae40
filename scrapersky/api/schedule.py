"""What scan.json and batch.json share: scan options from the request, the limits of what one
request may ask for, and runs on Scrapyd.

The order of the node's queue is the operator's: a tenant key's `priority` is checked, then
dropped (its runs queue at 0); an operator key's is kept. What one request may ask for is
bounded (SCRAPERSKY_MAX_BATCH_DOMAINS, SCRAPERSKY_MAX_BATCH_SLOTS, SCRAPERSKY_MAX_RETRIES):
more is a 400 or 429 naming the setting.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from twisted.internet import threads

from scrapersky.api.base import Fields, Service
from scrapersky.arguments import to_render
from scrapersky.config import ConfigError, project_settings, to_int
from scrapersky.core.errors import BadInput
from scrapersky.db import jobs
from scrapersky.scheduling.client import PROJECT, SPIDER, ScrapydClient, ScrapydError, new_run_id
from scrapersky.scheduling.runs import schedule_runs


def scan_options(fields: Fields) -> tuple[str, dict[str, Any], float]:
    """(tenant, stored options, Scrapyd priority) from the request, or a 400."""
    tenant = fields.tenant(default=project_settings().get("SCRAPERSKY_DEFAULT_TENANT"))
    max_pages = fields.number("max_pages", 0)
    try:
        render = to_render(fields.text("render") or "auto")
    except ConfigError as exc:  # the caller's field, not the node's setting
        raise BadInput(str(exc)) from None
    return tenant, {"max_pages": max_pages, "render": render}, run_priority(fields)


def run_priority(fields: Fields) -> float:
    """The Scrapyd priority of the request's runs: a finite number, kept for operator keys only."""
    text = fields.text("priority") or "0"
    try:
        priority = float(text)
    except ValueError:
        raise BadInput(f"priority must be a number, got {jobs.excerpt(text)!r}") from None
    if not math.isfinite(priority):
        raise BadInput(f"priority must be a finite number, got {text!r}")
    if fields.caller is not None and not fields.caller.operator:
        return 0.0  # tenants do not reorder the queue they share
    return priority


def quota(name: str, minimum: int = 1) -> int:
    """A limit on what one HTTP request may ask for (an integer setting)."""
    return to_int(project_settings().get(name), name, minimum=minimum)


def check_batch_size(count: int) -> None:
    limit = quota("SCRAPERSKY_MAX_BATCH_DOMAINS")
    if count > limit:
        raise BadInput(
            f"{count} domains in one batch, at most {limit} (SCRAPERSKY_MAX_BATCH_DOMAINS)",
        )


def batch_slots(fields: Fields, default: int) -> int:
    return fields.number("slots", default, minimum=1, maximum=quota("SCRAPERSKY_MAX_BATCH_SLOTS"))


class Scheduling(Service):
    allowed = ("POST",)

    def cluster(self) -> ScrapydClient | None:
        """The nodes of SCRAPYD_URLS when it is set; None: this node alone."""
        settings = project_settings()
        urls = settings.get("SCRAPYD_URLS").strip()
        if not urls:
            return None
        try:
            return ScrapydClient.from_settings(urls, settings)
        except ConfigError as exc:
            raise ConfigError(f"SCRAPYD_URLS: {exc}") from None  # the node's: a 503

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
