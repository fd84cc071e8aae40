"""The reaper's three settings, read once into JobTimes, and the reaping call that uses them.

Every place that ends the jobs of dead runs (the crawl's lifecycle extension, `scrapy status`,
`scrapy batch`, the HTTP API) builds a JobTimes from its Scrapy settings instead of reading
SCRAPERSKY_STALE_AFTER, SCRAPERSKY_MAX_ATTEMPTS and SCRAPERSKY_PENDING_AFTER by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.settings import BaseSettings
from sqlalchemy.orm import Session

from scrapersky.db import jobs


@dataclass(frozen=True)
class JobTimes:
    # Seconds without a heartbeat after which a running job counts as dead.
    stale_after: float
    # A stale batch job is requeued until it has been tried this often, then failed.
    max_attempts: int
    # Seconds a job handed to a run, or a batch's pending jobs, may wait untouched.
    pending_after: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> JobTimes:
        return cls(
            stale_after=settings.getfloat("SCRAPERSKY_STALE_AFTER"),
            max_attempts=settings.getint("SCRAPERSKY_MAX_ATTEMPTS"),
            pending_after=settings.getfloat("SCRAPERSKY_PENDING_AFTER"),
        )

    def reap(self, session: Session, *, pending: bool = True) -> dict[str, int]:
        """End the jobs of dead runs (jobs.reap_stale) in the caller's transaction; pending=False
        leaves jobs that wait unclaimed alone and only deals with running ones whose heartbeat
        stopped."""
        return jobs.reap_stale(
            session, self.stale_after, self.max_attempts, self.pending_after if pending else None
        )
