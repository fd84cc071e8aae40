from __future__ import annotations

from scrapy.exceptions import UsageError

from scrapersky.commands.batch import Command as BatchCommand
from scrapersky.core.errors import NotFound
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

    def _resume(self, ident: str) -> BatchJob:
        batch = jobs.find_batch_own_session(self.url, ident)
        if batch is None:
            raise NotFound(f"no batch with id {ident!r}")
        requeued = jobs.requeue_failed(self.url, batch.id)
        self.outcome["requeued"] = requeued
        self._note(
            f"batch {batch.batch_id}: {requeued} failed domain{'s' * (requeued != 1)} requeued"
        )
        return super()._resume(ident)
