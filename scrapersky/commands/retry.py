from __future__ import annotations

from scrapy.exceptions import UsageError
from sqlalchemy.orm import Session

from scrapersky.commands.batch import Command as BatchCommand
from scrapersky.db import jobs
from scrapersky.db.models import BatchJob


class Command(BatchCommand):
    """`scrapy batch --resume`, after requeueing the batch's failed domains as a new attempt."""

    def syntax(self) -> str:
        return "BATCH [--wait] [--slots N] [--scrapyd URL] [--json]"

    def short_desc(self) -> str:
        return "Requeue a batch's failed domains as a new attempt and schedule runs for them"

    def long_desc(self) -> str:
        return (
            "Every failed job of BATCH becomes pending again (names that are not domains stay failed), the "
            "batch is running again with its counters moved in the same transaction, and runs are scheduled "
            "on the Scrapyd nodes as `scrapy batch --resume` does. Exit codes as for `scrapy batch`."
        )

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1 or opts.resume:
            raise UsageError("give one batch id")
        opts.resume = args[0]
        super().run([], opts)

    def _prepare(self, session: Session, batch: BatchJob) -> None:
        """The failed jobs requeued in the resume's transaction: with its reaping, all or nothing."""
        requeued = jobs.requeue_failed(session, batch.id)
        self.outcome["requeued"] = requeued
        self._note(
            f"batch {batch.batch_id}: {requeued} failed domain{'s' * (requeued != 1)} requeued"
        )
