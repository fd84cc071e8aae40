"""What scan.json and batch.json share: scan options from the request (read by
scrapersky.config.scan_options, as the spider arguments and `scrapy batch` read theirs), the limits of
what one request may ask for, and runs on Scrapyd.

The order of the node's queue is the operator's: a tenant key's `priority` is checked, then
dropped (its runs queue at 0); an operator key's is kept. What one request may ask for is
bounded (SCRAPERSKY_MAX_BATCH_DOMAINS, SCRAPERSKY_MAX_BATCH_SLOTS, SCRAPERSKY_MAX_RETRIES):
more is a 400 or 429 naming the setting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import threads

from scrapersky.api.base import Fields, Service
from scrapersky.config import ConfigError, project_settings, to_int
from scrapersky.config.scan_options import parse_scan_request, to_slots
from scrapersky.core.errors import BadInput
from scrapersky.scheduling.client import PROJECT, SPIDER, ScrapydClient, ScrapydError, new_run_id
from scrapersky.scheduling.runs import schedule_runs

SCAN_FIELDS = ("tenant_id", "max_pages", "render", "priority")


def scan_options(fields: Fields) -> tuple[str, dict[str, Any], float]:
    """(tenant, stored options, Scrapyd priority) from the request, or a 400 (403: tenant_id
    naming another tenant). The priority is kept for operator keys only."""
    request = parse_scan_request({name: fields.text(name) for name in SCAN_FIELDS})
    tenant = fields.tenant(default=project_settings().get("SCRAPERSKY_DEFAULT_TENANT"))
    operator = fields.caller is None or fields.caller.operator
    # Tenants do not reorder the queue they share.
    return tenant, request.options.stored(), request.priority if operator else 0.0


def quota(name: str, minimum: int = 1) -> int:
    """A limit on what one HTTP request may ask for (an integer setting)."""
    return to_int(project_settings().get(name), name, minimum=minimum)


def check_batch_size(count: int) -> None:
    limit = quota("SCRAPERSKY_MAX_BATCH_DOMAINS")
    if count > limit:
        raise BadInput(
            f"{count} domains in one batch, at most {limit} (SCRAPERSKY_MAX_BATCH_DOMAINS)",
        )


def batch_slots(fields: Fields) -> int:
    """Runs per node, as `scrapy batch --slots` reads them, and at most the node's quota."""
    slots, limit = to_slots(fields.text("slots")), quota("SCRAPERSKY_MAX_BATCH_SLOTS")
    if slots > limit:
        raise BadInput(f"slots must be <= {limit}, got {slots} (SCRAPERSKY_MAX_BATCH_SLOTS)")
    return slots


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
