"""domain.json (a domain's metadata and sitemap files) and pages.json (its listed pages, a page
at a time), of the caller's tenant. An operator key reads the tenant named by tenant_id, else
SCRAPERSKY_DEFAULT_TENANT's."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from scrapersky.api.base import MAX_PAGE, Fields, Service
from scrapersky.config import project_settings, to_datetime
from scrapersky.core.domains import standardize_domain
from scrapersky.core.errors import BadInput, ConfigError, NotFound
from scrapersky.core.messages import excerpt
from scrapersky.db import results
from scrapersky.db.engine import session_scope
from scrapersky.db.models import Domain
from scrapersky.db.views import DOMAIN_FIELDS, PAGE_FIELDS, SITEMAP_FIELDS, row_view

PAGES_PER_PAGE = 1000


class DomainService(Service):
    """A domain of the caller's tenant from the `domain` field, or a 404. Each answer reads in
    one transaction, its caller's session."""

    def named(self, fields: Fields) -> tuple[str, str]:
        """The tenant and the standardized domain name the fields ask for."""
        raw = fields.text("domain", required=True)
        tenant = fields.tenant(default=project_settings().get("SCRAPERSKY_DEFAULT_TENANT"))
        return tenant, standardize_domain(raw)  # InvalidDomain: a 400

    def domain(self, session: Session, tenant: str, name: str) -> Domain:
        found = results.find_domain(session, tenant, name)
        if found is None:
            raise NotFound(f"no domain {name!r}")
        return found


class DomainInfo(DomainService):
    """GET domain=NAME: everything known about the domain, and its sitemap files."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        tenant, name = self.named(fields)
        with session_scope(self.ready_database()) as session:
            domain = self.domain(session, tenant, name)
            files = results.sitemap_files(session, domain.id)
        where = f"domain={quote(domain.domain)}&tenant_id={domain.tenant_id}"
        return {
            "domain": row_view(domain, DOMAIN_FIELDS),
            "sitemap_files": [row_view(s, SITEMAP_FIELDS) for s in files],
            "links": {"pages": f"pages.json?{where}"},
        }


class Pages(DomainService):
    """GET domain=NAME [, after, limit, lastmod_since, sitemap]: the domain's listed pages in id
    order after the page id `after` (`next_after` continues; null at the end); lastmod_since an
    ISO 8601 date or time; sitemap the id or URL of one of its sitemap files."""

    def answer(self, fields: Fields) -> dict[str, Any]:
        after = fields.number("after", 0)
        limit = fields.number("limit", PAGES_PER_PAGE, minimum=1, maximum=MAX_PAGE)
        since = _since(fields.text("lastmod_since"))
        tenant, name = self.named(fields)
        wanted = fields.text("sitemap")
        with session_scope(self.ready_database()) as session:
            domain = self.domain(session, tenant, name)
            sitemap_id = None
            if wanted:
                sitemap = results.find_sitemap(session, domain.id, wanted)
                if sitemap is None:
                    raise NotFound(f"no sitemap {excerpt(wanted)!r} for {domain.domain}")
                sitemap_id = sitemap.id
            rows = results.pages(
                session,
                domain.id,
                after=after,
                limit=limit + 1,
                lastmod_since=since,
                sitemap_file_id=sitemap_id,
            )
        return {
            "domain": domain.domain,
            "pages": [row_view(p, PAGE_FIELDS) for p in rows[:limit]],
            "next_after": rows[limit - 1].id if len(rows) > limit else None,
        }


def _since(text: str) -> datetime | None:
    try:
        return to_datetime(text, "lastmod_since") if text else None
    except ConfigError as exc:  # the caller's field, not the node's setting
        raise BadInput(str(exc)) from None
