"""health.json: the database answers and its schema is current (503 otherwise). No key needed:
it tells a load balancer or container runtime whether the node can work, and nothing else."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from twisted.web import http

from scrapersky.api.base import Fields, Service, WebError
from scrapersky.config import ConfigError
from scrapersky.db.schema import SCHEMA_HEAD, current_revision, first_line


class Health(Service):
    public = True

    def answer(self, fields: Fields) -> dict[str, Any]:
        url = self.database
        try:
            current, head = current_revision(url), SCHEMA_HEAD
        except ConfigError as exc:
            raise WebError(http.SERVICE_UNAVAILABLE, str(exc)) from None
        except SQLAlchemyError as exc:
            raise WebError(
                http.SERVICE_UNAVAILABLE, f"database unreachable: {first_line(exc)}"
            ) from None
        if current != head:
            raise WebError(
                http.SERVICE_UNAVAILABLE,
                f"database schema is at {current or 'nothing'}, expected {head}: run `scrapy migrate`",
                revision=current,
                head=head,
            )
        return {"database": "ok", "revision": current, "head": head}
