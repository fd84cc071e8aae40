"""What earlier scans stored about a domain, for conditional requests on a rescan."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from scrapersky.db.bulk import URLS_PER_STATEMENT, chunks
from scrapersky.db.models import Domain, Page, SitemapFile


def read_validators(session: Session, tenant_id: str, domain: str) -> dict[str, dict[str, Any]]:
    """Per sitemap URL: stored ETag / Last-Modified / body digest, URL count, how it was found
    and (for indexes) children; only sitemaps that have at least one of the three.
    `listing_id` names a kept reading (sitemap_listing) that the stored pages match: as many current pages name the
    sitemap as it listed URLs, so none was listed twice, dropped, or taken by another sitemap."""
    child = aliased(SitemapFile)
    files = session.execute(
        select(
            SitemapFile.id,
            SitemapFile.url,
            SitemapFile.etag,
            SitemapFile.last_modified,
            SitemapFile.content_digest,
            SitemapFile.url_count,
            SitemapFile.sitemap_type,
            SitemapFile.discovery_method,
            SitemapFile.domain_id,
            SitemapFile.listing.is_not(None).label("has_listing"),
        )
        .join(Domain, Domain.id == SitemapFile.domain_id)
        .where(
            Domain.tenant_id == tenant_id,
            Domain.domain == domain,
            SitemapFile.status_code.in_((200, 304)),
            SitemapFile.sitemap_type.is_not(None),
            # A removed sitemap published again must be read again: its pages were removed.
            SitemapFile.removed_at.is_(None),
        )
    ).all()
    ids = {row.id: row.url for row in files}
    children: dict[str, list[str]] = {}
    if ids:
        for parent_id, child_url in session.execute(
            select(child.parent_id, child.url).where(child.parent_id.in_(list(ids)))
        ):
            children.setdefault(ids[parent_id], []).append(child_url)
    kept = [row.id for row in files if row.has_listing]
    pages: dict[int | None, int] = {}
    if kept:
        pages = dict(
            session.execute(
                select(Page.sitemap_file_id, func.count())
                .where(
                    Page.domain_id == files[0].domain_id,
                    Page.removed_at.is_(None),
                    Page.sitemap_file_id.in_(kept),
                )
                .group_by(Page.sitemap_file_id)
            )
            .tuples()
            .all()
        )
    return {
        row.url: {
            "etag": row.etag,
            "last_modified": row.last_modified,
            "content_digest": row.content_digest,
            "url_count": row.url_count,
            "sitemap_type": row.sitemap_type,
            "discovery_method": row.discovery_method,
            "children": children.get(row.url, []),
            "listing_id": row.id
            if row.has_listing and pages.get(row.id) == row.url_count
            else None,
            "domain_id": row.domain_id,
        }
        for row in files
        if row.etag or row.last_modified or row.content_digest
    }


def sitemap_listing(session: Session, sitemap_file_id: int) -> bytes | None:
    """The reading of a sitemap kept for the next rescan's diff (see read_validators)."""
    return session.scalar(select(SitemapFile.listing).where(SitemapFile.id == sitemap_file_id))


def stored_pages(session: Session, domain_id: int, sitemap_file_id: int, urls: list[str]) -> bool:
    """Does any of these URLs have a current page under this sitemap?"""
    for chunk in chunks(urls, URLS_PER_STATEMENT):
        found = session.scalar(
            select(Page.id)
            .where(
                Page.domain_id == domain_id,
                Page.url.in_(chunk),
                Page.sitemap_file_id == sitemap_file_id,
                Page.removed_at.is_(None),
            )
            .limit(1)
        )
        if found is not None:
            return True
    return False
