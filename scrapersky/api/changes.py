"""changes.json: what a domain's scans changed, of the caller's tenant (scrapy changes over HTTP)."""

from __future__ import annotations

from typing import Any

from twisted.web import http

from scrapersky.api.base import Fields, WebError
from scrapersky.api.results import DomainService
from scrapersky.config import ConfigError, to_datetime
from scrapersky.db.changes import NotFound, domain_changes


class Changes(DomainService):
    """GET domain=NAME [, since (ISO date/time) or scan (a job id)]: the domain's changes, oldest first."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        since, scan = fields.text("since"), fields.text("scan")
        if since and scan:
            raise WebError(http.BAD_REQUEST, "give since or scan, not both")
        try:
            moment = to_datetime(since, "since") if since else None
        except ConfigError as exc:
            raise WebError(http.BAD_REQUEST, str(exc)) from None
        url, domain = self.domain(fields)
        try:
            return domain_changes(
                url, domain.tenant_id, domain.domain, since=moment, scan=scan or None
            )
        except NotFound as exc:
            raise WebError(http.NOT_FOUND, str(exc)) from None
