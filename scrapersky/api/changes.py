"""changes.json: what a domain's scans changed, of the caller's tenant (scrapy changes over HTTP)."""

from __future__ import annotations

from typing import Any

from scrapersky.api.base import Fields
from scrapersky.api.results import DomainService
from scrapersky.config import to_datetime
from scrapersky.core.errors import BadInput, ConfigError
from scrapersky.db.changes import domain_changes
from scrapersky.db.engine import session_scope


class Changes(DomainService):
    """GET domain=NAME [, since (ISO date/time) or scan (a job id)]: the domain's changes, oldest first."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        since, scan = fields.text("since"), fields.text("scan")
        if since and scan:
            raise BadInput("give since or scan, not both")
        try:
            moment = to_datetime(since, "since") if since else None
        except ConfigError as exc:  # the caller's field, not the node's setting
            raise BadInput(str(exc)) from None
        tenant, name = self.named(fields)
        with session_scope(self.ready_database()) as session:
            domain = self.domain(session, tenant, name)
            return domain_changes(
                session, domain.tenant_id, domain.domain, since=moment, scan=scan or None
            )
