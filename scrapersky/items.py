"""Items the sitemap spider produces.

Listed URLs travel in `PageBatchItem`s of a few thousand rows: Scrapy spends ~40 µs per item,
so one item per URL would cost more than parsing and storing them. Feed exports still get one
line per URL (see `scrapersky.exporters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scrapersky.core.states import DiscoveryMethod, JobStatus
from scrapersky.sitemaps import PageEntry


@dataclass
class DomainItem:
    """A domain's scan result: one per scan, produced when the scan ends."""

    tenant_id: str
    domain: str
    status: JobStatus  # how the scan ends its job: complete or failed
    last_scan: datetime
    last_error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # scrapersky.metadata.extract_metadata()
    sitemap_urls: int = 0
    total_sitemaps: int = 0
    job_id: str | None = None
    # The homepage was read this scan: metadata holds what it says (otherwise the stored metadata stays).
    homepage_read: bool = False
    # Every sitemap the scan knew of was read (or found unchanged): one it no longer finds is gone.
    sitemaps_complete: bool = False


@dataclass
class SitemapFileItem:
    tenant_id: str
    domain: str
    url: str
    discovery_method: DiscoveryMethod
    parent_url: str | None = None
    sitemap_type: str | None = None  # index | urlset | text | rss | atom
    url_count: int = 0
    size_bytes: int = 0
    is_gzipped: bool = False
    status_code: int | None = None
    error_message: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_digest: str | None = None
    fetched_at: datetime | None = None
    # True for a 304 answer: the stored listing is current and must be kept as it is.
    unchanged: bool = False
    # Read to its end without error: pages it used to list and no longer does stopped being listed.
    complete: bool = False
    # The reading kept for the next rescan's diff (scrapersky.sitemaps.diff.keepable), or None.
    listing: bytes | None = None
    # Read by a diff with the kept reading (only what changed was listed): the URLs it no longer
    # lists. None after a full read.
    vanished: list[str] | None = None


@dataclass
class PageBatchItem:
    """Up to SCRAPERSKY_PAGE_CHUNK listed URLs of one sitemap file, as the parser made them:
    no per-URL copy is made on the way to the database."""

    tenant_id: str
    domain: str
    sitemap_url: str
    pages: list[PageEntry]


@dataclass
class PageItem:
    """A listed page that was actually fetched (max_pages)."""

    tenant_id: str
    domain: str
    url: str
    status_code: int | None
    title: str | None = None
    description: str | None = None
    fetched_at: datetime | None = None
