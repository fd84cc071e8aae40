"""Reading a tenant's scan results: a domain, its sitemap files, its pages a page at a time,
in the caller's session (one HTTP request: one read transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scrapersky.db.jobs import integer_id, plain_id
from scrapersky.db.models import Domain, Page, SitemapFile


def find_domain(session: Session, tenant_id: str, name: str) -> Domain | None:
    return session.scalars(
        select(Domain).where(Domain.tenant_id == tenant_id, Domain.domain == name)
    ).first()


def sitemap_files(session: Session, domain_id: int) -> list[SitemapFile]:
    query = select(SitemapFile).where(SitemapFile.domain_id == domain_id).order_by(SitemapFile.id)
    return list(session.scalars(query).all())


def find_sitemap(session: Session, domain_id: int, ident: str) -> SitemapFile | None:
    """One of the domain's sitemap files, by integer id or URL."""
    if (plain := plain_id(ident)) is None:
        return None
    conditions = [SitemapFile.url == plain]
    if (number := integer_id(plain)) is not None:
        conditions.append(SitemapFile.id == number)
    query = select(SitemapFile).where(SitemapFile.domain_id == domain_id, or_(*conditions))
    return session.scalars(query).first()


def pages(
    session: Session,
    domain_id: int,
    *,
    after: int = 0,
    limit: int,
    lastmod_since: datetime | None = None,
    sitemap_file_id: int | None = None,
) -> list[Page]:
    """The domain's pages in id order after the id `after` (keyset pagination: every page of
    results costs the same, however deep)."""
    query = select(Page).where(Page.domain_id == domain_id, Page.id > after)
    if lastmod_since is not None:
        query = query.where(Page.lastmod >= lastmod_since)
    if sitemap_file_id is not None:
        query = query.where(Page.sitemap_file_id == sitemap_file_id)
    return list(session.scalars(query.order_by(Page.id).limit(limit)).all())
