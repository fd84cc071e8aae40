"""Prometheus metrics of a node at /metrics: aggregate numbers only, never a tenant's.

Mounted by scrapyd.conf's `[services]` (`metrics = scrapersky.api.metrics.Metrics`), behind the
node's basic auth like Scrapyd's own endpoints. Counts come from the shared database, so every
node reports the same job and batch figures; the run queue is this node's own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from twisted.internet import threads
from twisted.logger import Logger
from twisted.web import resource, server

from scrapersky.config import project_settings
from scrapersky.core.errors import DatabaseUnavailable
from scrapersky.core.states import BatchStatus, JobStatus
from scrapersky.db.aggregates import WINDOW, Aggregates, collect
from scrapersky.db.engine import in_transaction
from scrapersky.db.schema import first_line

JOB_STATES = tuple(JobStatus)
BATCH_STATES = tuple(BatchStatus)
DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600)
HOURS = int(WINDOW.total_seconds() // 3600)
log = Logger()


class _Snapshot:
    """A prometheus_client collector over one Aggregates reading and this node's run queue."""

    def __init__(self, found: Aggregates, queued: int, running: int) -> None:
        self.found, self.queued, self.running = found, queued, running

    def collect(self):
        found = self.found
        jobs = GaugeMetricFamily("scrapersky_jobs", "Jobs by state", labels=["state"])
        for state in JOB_STATES:
            jobs.add_metric([state], found.jobs.get(state, 0))
        yield jobs
        batches = GaugeMetricFamily("scrapersky_batches", "Batches by state", labels=["state"])
        for state in BATCH_STATES:
            batches.add_metric([state], found.batches.get(state, 0))
        yield batches
        yield GaugeMetricFamily("scrapersky_domains", "Domains stored", value=found.domains)
        yield GaugeMetricFamily(
            "scrapersky_urls_listed", "URLs currently listed, all domains", value=found.urls_listed
        )
        buckets, total = [], 0
        for bound in DURATION_BUCKETS:
            total = sum(1 for seconds in found.durations if seconds <= bound)
            buckets.append((str(float(bound)), total))
        buckets.append(("+Inf", len(found.durations)))
        yield HistogramMetricFamily(
            "scrapersky_scan_duration_seconds",
            f"Scan durations of jobs ended in the last {HOURS} h",
            buckets=buckets,
            sum_value=sum(found.durations),
        )
        errors = GaugeMetricFamily(
            "scrapersky_job_errors", f"Jobs failed in the last {HOURS} h by kind", labels=["kind"]
        )
        for kind, count in sorted(found.errors.items()):
            errors.add_metric([kind], count)
        yield errors
        yield GaugeMetricFamily(
            "scrapersky_store_flush_seconds_max",
            f"Longest bulk database write of jobs ended in the last {HOURS} h",
            value=found.max_flush_seconds,
        )
        yield GaugeMetricFamily(
            "scrapersky_node_runs_queued", "Runs waiting on this node", value=self.queued
        )
        yield GaugeMetricFamily(
            "scrapersky_node_runs_running", "Runs running on this node", value=self.running
        )


class Metrics(resource.Resource):
    isLeaf = True

    def __init__(self, root) -> None:
        super().__init__()
        self.root = root

    def render_GET(self, txrequest):
        queued = sum(queue.count() for queue in self.root.poller.queues.values())
        running = len(self.root.launcher.processes)
        gone: list[bool] = []
        txrequest.notifyFinish().addErrback(lambda _: gone.append(True))
        deferred = threads.deferToThread(
            in_transaction, project_settings().get("DATABASE_URL"), collect
        )
        deferred.addCallbacks(
            lambda found: (200, self._text(found, queued, running)),
            lambda failure: self._unavailable(failure.value),
        )
        deferred.addCallback(lambda outcome: gone or self._write(txrequest, *outcome))
        return server.NOT_DONE_YET

    @staticmethod
    def _unavailable(error: BaseException) -> tuple[int, bytes]:
        # The driver's words may quote part of DATABASE_URL: they go to the node's log only.
        log.warn("/metrics: {error}", error=first_line(error))  # noqa: G010 (Twisted's Logger has warn)
        return DatabaseUnavailable.http_status, f"# {DatabaseUnavailable.public_message}\n".encode()

    @staticmethod
    def _text(found: Aggregates, queued: int, running: int) -> bytes:
        registry = CollectorRegistry()
        registry.register(_Snapshot(found, queued, running))
        return generate_latest(registry)

    @staticmethod
    def _write(txrequest, code: int, body: bytes) -> None:
        txrequest.setResponseCode(code)
        txrequest.setHeader("Content-Type", CONTENT_TYPE_LATEST)
        txrequest.write(body)
        txrequest.finish()
