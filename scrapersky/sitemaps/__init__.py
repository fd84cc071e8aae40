"""Sitemap discovery and parsing: pure functions over bytes, no Scrapy imports."""

from scrapersky.sitemaps.discovery import (
    WELL_KNOWN_PATHS,
    GuessState,
    homepage_hints,
    looks_like_news,
    next_guesses,
    site_generators,
    sitemaps_from_html,
    sitemaps_from_robots,
)
from scrapersky.sitemaps.parse import PageEntry, Sitemap, SitemapRef, open_sitemap, parse_lastmod

__all__ = [
    "WELL_KNOWN_PATHS",
    "GuessState",
    "PageEntry",
    "Sitemap",
    "SitemapRef",
    "homepage_hints",
    "looks_like_news",
    "next_guesses",
    "open_sitemap",
    "parse_lastmod",
    "site_generators",
    "sitemaps_from_html",
    "sitemaps_from_robots",
]
