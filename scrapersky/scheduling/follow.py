"""Following a batch to its end: progress, requeueing jobs of dead runs, noticing when nothing is left to work."""

from __future__ import annotations

import time
from collections.abc import Callable

from scrapersky.core.errors import Conflict
from scrapersky.core.states import JobStatus
from scrapersky.db import jobs
from scrapersky.db.engine import session_scope
from scrapersky.db.models import BatchJob
from scrapersky.scheduling.reaper import JobTimes


class BatchStalled(Conflict):
    """Jobs are pending but no run is left to take them; str() says how to go on."""


def follow_batch(
    url: str,
    batch_pk: int,
    *,
    times: JobTimes,
    alive: Callable[[], bool],
    on_update: Callable[[BatchJob], None],
    poll: float = 1.0,
    stall_checks: int = 2,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BatchJob:
    """Poll until the batch ends and return it.

    Each look requeues stale jobs (jobs.reap_stale), so jobs of a run that died go back to
    pending. Raises BatchStalled when, `stall_checks` looks in a row, jobs are pending, none is
    running, and `alive()` says none of the batch's runs is queued or running any more.

    Looks come every `poll` seconds, and sooner at the end: once no job is pending, the next
    look comes when the next job should end at the rate jobs ended since the last look (never
    sooner than FINAL_POLL), so the batch's end, which is its last job's, is seen within about
    one job's interval of it, at the cost of about one look per job of the tail.
    """
    stalled = 0
    last: tuple[float, int] | None = None  # when the last look was, and how many jobs had ended
    while True:
        # Running jobs whose heartbeat stopped only: the batch's waiting jobs belong to the
        # runs scheduled for them, which `alive` watches.
        with session_scope(url) as session:  # the reaper's write transaction
            times.reap(session, pending=False)
        with session_scope(url) as session:  # the batch and its counts: one read transaction
            batch = jobs.find_batch(session, batch_pk)
            counts = jobs.status_counts(session, batch_pk)
        if batch is None:
            raise BatchStalled(f"batch {batch_pk} no longer exists")
        on_update(batch)
        if batch.status not in jobs.ACTIVE:
            return batch
        if (
            counts.get(JobStatus.PENDING, 0)
            and not counts.get(JobStatus.RUNNING, 0)
            and not alive()
        ):
            stalled += 1
            if stalled >= stall_checks:
                raise BatchStalled(
                    f"batch {batch.batch_id}: {counts['pending']} jobs pending and no run left to take them: "
                    f"run `scrapy batch --resume {batch.batch_id}`"
                )
        else:
            stalled = 0
        ended = batch.completed_domains + batch.failed_domains
        looked = (clock(), ended)
        sleep(_next_look(poll, last, looked, counts))
        last = looked


FINAL_POLL = 0.1  # seconds: the shortest wait between two looks


def _next_look(
    poll: float, last: tuple[float, int] | None, now: tuple[float, int], counts: dict[str, int]
) -> float:
    """Seconds until the next look: `poll`, or less when only running jobs are left and, at the
    rate jobs ended since the last look, the next one should end sooner. (Waiting until all of
    them should have ended saw the end 0.4 s late on average: they do not end together.)"""
    if last is None or counts.get(JobStatus.PENDING, 0) or not counts.get(JobStatus.RUNNING, 0):
        return poll
    seconds, ended = now[0] - last[0], now[1] - last[1]
    if seconds <= 0 or ended <= 0:
        return poll
    return min(poll, max(FINAL_POLL, seconds / ended))
