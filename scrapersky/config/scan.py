"""The sitemap spider's settings, read once from Scrapy's settings into a frozen ScanSettings."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.settings import BaseSettings

from scrapersky.config import to_list


@dataclass(frozen=True)
class ScanSettings:
    database_url: str
    # Tenant of the jobs a run creates without a tenant_id argument.
    default_tenant: str
    # Schemes tried, in order, to reach a domain.
    schemes: tuple[str, ...]
    # Domains one run scans at the same time.
    concurrent_scans: int
    # Sitemap index nesting followed, and sitemaps one scan reads at most.
    max_depth: int
    max_sitemaps: int
    # Decompressed size cap per sitemap, and sitemaps of one scan downloading at once.
    max_bytes: int
    sitemaps_in_flight: int
    # Listed URLs carried per item.
    chunk: int
    # A feed export lists every page a scan lists: no sitemap is read by a diff then.
    diffs: bool

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ScanSettings:
        return cls(
            database_url=settings.get("DATABASE_URL"),
            default_tenant=settings.get("SCRAPERSKY_DEFAULT_TENANT"),
            schemes=tuple(to_list(settings.get("SCRAPERSKY_SCHEMES"))),
            concurrent_scans=settings.getint("SCRAPERSKY_CONCURRENT_SCANS"),
            max_depth=settings.getint("SCRAPERSKY_SITEMAP_MAX_DEPTH"),
            max_sitemaps=settings.getint("SCRAPERSKY_MAX_SITEMAPS"),
            max_bytes=settings.getint("SCRAPERSKY_SITEMAP_MAX_BYTES"),
            sitemaps_in_flight=settings.getint("SCRAPERSKY_SITEMAPS_IN_FLIGHT"),
            chunk=settings.getint("SCRAPERSKY_PAGE_CHUNK"),
            diffs=not settings.getdict("FEEDS"),
        )
