"""One flush of scan results: everything buffered is written in a single transaction."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select

from scrapersky.db import bulk
from scrapersky.db.engine import get_engine
from scrapersky.db.models import Page, SitemapFile
from scrapersky.items import PageBatchItem, PageItem, SitemapFileItem

DomainKey = tuple[str, str]
DOMAIN_COLUMNS = (
    "title", "description", "language", "favicon_url", "logo_url", "is_wordpress", "wordpress_version",
    "has_elementor", "tech_stack", "email_addresses", "phone_numbers", "facebook_url", "twitter_url",
    "linkedin_url", "instagram_url", "youtube_url", "tiktok_url", "structured_data",
)


@dataclass
class StoreBatch:
    # Listed pages as lines of COPY text per domain (bulk.listing_line), made on the reactor
    # thread one item (a few thousand rows) at a time: compact in memory, and the writer
    # thread has no per-row Python work left to compete for the GIL with the parser.
    pages: dict[DomainKey, list[str]] = field(default_factory=dict)
    # Per domain, the sitemap files the lines name, by their key in the lines (1, 2, …).
    sitemaps: dict[DomainKey, dict[str, int]] = field(default_factory=dict)
    rows: int = 0
    files: list[tuple[DomainKey, dict[str, Any]]] = field(default_factory=list)
    fetches: list[tuple[DomainKey, dict[str, Any]]] = field(default_factory=list)
    domains: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.pages or self.files or self.fetches or self.domains)

    def add_pages(self, item: PageBatchItem) -> None:
        key = (item.tenant_id, item.domain)
        lines = self.pages.setdefault(key, [])
        sitemaps = self.sitemaps.setdefault(key, {})
        sitemap_key = sitemaps.setdefault(item.sitemap_url, len(sitemaps) + 1)
        line = bulk.listing_line
        lines.extend([line(sitemap_key, entry) for entry in item.pages])
        self.rows += len(item.pages)

    def add_file(self, item: SitemapFileItem) -> None:
        values = asdict(item)
        self.files.append(((values.pop("tenant_id"), values.pop("domain")), values))

    def add_fetch(self, item: PageItem) -> None:
        values = asdict(item)
        self.fetches.append(((values.pop("tenant_id"), values.pop("domain")), values))

    def add_domain(self, values: dict[str, Any]) -> None:
        self.domains.append(values)

    def forget_validators(self, domains: Collection[DomainKey]) -> None:
        """Store these domains' sitemap files without ETag, Last-Modified or digest, so that the
        next scan reads them in full instead of taking them as unchanged."""
        for key, values in self.files:
            if key in domains:
                values["etag"] = values["last_modified"] = values["content_digest"] = None

    def domain_keys(self) -> set[DomainKey]:
        keys = set(self.pages)
        keys.update(key for key, _ in self.files)
        keys.update(key for key, _ in self.fetches)
        keys.update((v["tenant_id"], v["domain"]) for v in self.domains)
        return keys


def write_batch(url: str, batch: StoreBatch, id_cache: dict[DomainKey, int]) -> int:
    """Write a batch in one transaction; returns how many page rows were inserted or changed."""
    with get_engine(url).begin() as connection:
        missing = batch.domain_keys() - id_cache.keys()
        found = bulk.domain_ids(connection, missing)
        ids = {**id_cache, **found}
        # Files are written in key order so concurrent scans of one domain lock them in the
        # same order and cannot deadlock; placeholders first, so parents resolve in any order.
        files = sorted(batch.files, key=lambda kv: (ids[kv[0]], kv[1]["url"]))
        placeholders = {(ids[key], url) for key, urls in batch.sitemaps.items() for url in urls}
        for key, values in files:
            placeholders.add((ids[key], values["url"]))
            if values.get("parent_url"):
                placeholders.add((ids[key], values["parent_url"]))
        bulk.ensure_sitemap_files(connection, placeholders)
        for key, values in files:
            bulk.upsert_sitemap_file(connection, ids[key], values)
        changed = 0
        for key in sorted(batch.pages, key=lambda k: ids[k]):
            sitemaps = batch.sitemaps[key]  # in key order: keys were handed out 1, 2, … as added
            file_ids = bulk.sitemap_file_ids(connection, ids[key], sitemaps)
            changed += bulk.upsert_listed_pages(connection, ids[key], batch.pages[key],
                                                [file_ids[url] for url in sitemaps])
        for key, values in batch.fetches:
            bulk.upsert_page_fetches(connection, ids[key], [values])
        for values in batch.domains:
            domain_id = ids[(values["tenant_id"], values["domain"])]
            bulk.upsert_domain(connection, domain_id, _domain_values(connection, domain_id, values))
    id_cache.update(found)  # only after the commit: a rolled-back insert leaves no id behind
    return changed


def _domain_values(connection, domain_id: int, item: dict[str, Any]) -> dict[str, Any]:
    metadata = item["metadata"]
    values = {column: metadata.get(column) for column in DOMAIN_COLUMNS if column in metadata}
    values["is_wordpress"] = bool(metadata.get("is_wordpress"))
    values["has_elementor"] = bool(metadata.get("has_elementor"))
    # Counts come from the stored rows, so they are true whatever the scan saw twice.
    values["sitemap_urls"] = connection.scalar(select(func.count()).select_from(Page).where(Page.domain_id == domain_id))
    values["total_sitemaps"] = connection.scalar(
        select(func.count()).select_from(SitemapFile)
        .where(SitemapFile.domain_id == domain_id, SitemapFile.sitemap_type.is_not(None))
    )
    values.update(
        status=item["status"], last_scan=item["last_scan"], last_error=item["last_error"],
        domain_metadata=metadata,
    )
    return values


