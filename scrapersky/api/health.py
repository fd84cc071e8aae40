"""health.json: the database answers and its schema is current (503 otherwise). No key needed:
it tells a load balancer or container runtime whether the node can work, and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from twisted.logger import Logger
from twisted.web import http

from scrapersky.api.base import UNAVAILABLE, Fields, Service, WebError
from scrapersky.config import ConfigError
from scrapersky.db.schema import SCHEMA_HEAD, current_revision, first_line

log = Logger()


class Health(Service):
    public = True

    def answer(self, fields: Fields) -> dict[str, Any]:
        url = self.database
        try:
            current, head = current_revision(url), SCHEMA_HEAD
        except (ConfigError, SQLAlchemyError, ValueError) as exc:
            # The driver's words may quote part of DATABASE_URL: they go to the node's log only.
            log.warn("health.json: {error}", error=first_line(exc))  # noqa: G010 (Twisted's Logger has warn)
            raise WebError(http.SERVICE_UNAVAILABLE, UNAVAILABLE) from None
        if current != head:
            raise WebError(
                http.SERVICE_UNAVAILABLE,
                f"database schema is at {current or 'nothing'}, expected {head}: run `scrapy migrate`",
                revision=current,
                head=head,
            )
        return {"database": "ok", "revision": current, "head": head}
