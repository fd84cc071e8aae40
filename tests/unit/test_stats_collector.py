"""The sitemap crawl's stats collector keeps Scrapy's counts, without Scrapy's per-call shim."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from scrapersky.extensions.stats import StatsCollector
from scrapersky.spiders.sitemap import SiteScanSpider


def _count(stats) -> dict:
    stats.open_spider()
    stats.inc_value("downloader/request_count")
    stats.inc_value("downloader/request_count", 2)
    stats.inc_value("scrapersky/listed", start=10)
    stats.max_value("max", 3)
    stats.max_value("max", 1)
    stats.min_value("min", 3)
    stats.min_value("min", 1)
    stats.set_value("set", "x")
    stats.set_value("gone", 1)
    stats.set_stats({**stats.get_stats(), "gone": stats.get_value("gone") + 1})
    return stats.get_stats()


def test_the_sitemap_crawl_counts_with_the_collector_of_its_settings():
    crawler = get_crawler(SiteScanSpider)
    assert type(crawler.stats) is StatsCollector


def test_the_collector_counts_as_scrapys_own():
    counts = _count(StatsCollector(get_crawler()))
    assert counts == _count(MemoryStatsCollector(get_crawler()))
    assert counts["downloader/request_count"] == 3 and counts["scrapersky/listed"] == 11
    assert (counts["max"], counts["min"], counts["gone"]) == (3, 1, 2)
