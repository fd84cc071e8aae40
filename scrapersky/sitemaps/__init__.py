"""Sitemap discovery and parsing: pure functions over bytes, no Scrapy imports."""

from scrapersky.sitemaps.discovery import WELL_KNOWN_PATHS, sitemaps_from_html, sitemaps_from_robots
from scrapersky.sitemaps.parse import PageEntry, Sitemap, SitemapRef, open_sitemap, parse_lastmod

__all__ = [
    "WELL_KNOWN_PATHS",
    "PageEntry",
    "Sitemap",
    "SitemapRef",
    "open_sitemap",
    "parse_lastmod",
    "sitemaps_from_html",
    "sitemaps_from_robots",
]
