"""health.json: the database answers and its schema is current (503 otherwise). No key needed:
it tells a load balancer or container runtime whether the node can work, and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from scrapersky.api.base import Fields, Service
from scrapersky.core.errors import DatabaseUnavailable, SchemaBehind, ScraperSkyError
from scrapersky.db.schema import SCHEMA_HEAD, current_revision, first_line


class Health(Service):
    public = True

    def answer(self, fields: Fields) -> dict[str, Any]:
        url = self.database
        try:
            current, head = current_revision(url), SCHEMA_HEAD
        except (ScraperSkyError, SQLAlchemyError, ValueError) as exc:
            # Answered as "database unavailable": the driver's words, which may quote part of
            # DATABASE_URL, go to the node's log only.
            raise DatabaseUnavailable(first_line(exc)) from None
        if current != head:
            raise SchemaBehind(
                f"database schema is at {current or 'nothing'}, expected {head}: run `scrapy migrate`",
                revision=current,
                head=head,
            )
        return {"database": "ok", "revision": current, "head": head}
