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
) -> BatchJob:
    """Poll until the batch ends and return it.

    Each look requeues stale jobs (jobs.reap_stale), so jobs of a run that died go back to
    pending. Raises BatchStalled when, `stall_checks` looks in a row, jobs are pending, none is
    running, and `alive()` says none of the batch's runs is queued or running any more.
    """
    stalled = 0
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
        sleep(poll)
