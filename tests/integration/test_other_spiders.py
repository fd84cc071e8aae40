"""A spider a user adds to this project runs as Scrapy runs it: none of the `sitemap` spider's
components (job records, the store, rendering, our robots.txt handling, our feed
exporters) load for it. The address guard alone is project-wide (docs/architecture.md)."""

from __future__ import annotations

import csv
import re

from tests.conftest import ROOT, scrapy, scrapy_env

PLAIN_SPIDER = """
import scrapy


class PlainSpider(scrapy.Spider):
    name = "plain"

    async def start(self):
        yield scrapy.Request(self.url)

    def parse(self, response):
        yield {"url": response.url, "title": response.css("title::text").get()}
"""
FORMULA = "=SUM(1+2)"


def _enabled(log: str, kind: str) -> list[str]:
    """Component paths Scrapy logs as enabled, e.g. kind="item pipelines"."""
    found = re.search(rf"Enabled {kind}:\n(\[.*?\])", log, re.S)
    assert found, f"no 'Enabled {kind}' in the log"
    return re.findall(r"'([\w.]+)'", found.group(1))


def test_a_second_spider_runs_without_the_sitemap_spiders_components(tmp_path, web):
    (tmp_path / "plainspiders.py").write_text(PLAIN_SPIDER)
    site = web.site("plain.test")
    site.add("/", f"<html><head><title>{FORMULA}</title></head><body>hi</body></html>")
    site.add("/robots.txt", "User-agent: *\nDisallow:\n")
    database = tmp_path / "never.db"
    out = tmp_path / "out.csv"
    env = scrapy_env(f"sqlite:///{database}", web, PYTHONPATH=f"{tmp_path}:{ROOT}")
    result = scrapy(
        "crawl",
        "plain",
        "-a",
        "url=http://plain.test/",
        "-s",
        "SPIDER_MODULES=scrapersky.spiders,plainspiders",
        "-O",
        str(out),
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr

    ours = [
        path
        for kind in ("extensions", "downloader middlewares", "item pipelines")
        for path in _enabled(log, kind)
        if path.startswith("scrapersky.")
    ]
    # The fixture web's made-up names need the address guard off (scrapy_env): nothing of ours.
    assert ours == []
    # Scrapy's own robots.txt middleware, which the sitemap spider replaces, is back.
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" in _enabled(
        log, "downloader middlewares"
    )
    assert "Enabled addons:\n[]" in log
    # No database touched, no job recorded.
    assert not database.exists()
    # Scrapy's CSV exporter, not the formula-safe one: the cell is written as the site sent it.
    with open(out, newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == [{"url": "http://plain.test/", "title": FORMULA}]


def test_the_address_guard_is_the_one_project_wide_component():
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    assert settings["TWISTED_DNS_RESOLVER"] == "scrapersky.net.resolver.GuardedResolver"
    assert dict(settings.getdict("DOWNLOADER_MIDDLEWARES")) == {
        "scrapersky.net.guard.PrivateNetworkGuard": 50
    }
    for name in ("ITEM_PIPELINES", "EXTENSIONS", "ADDONS", "FEED_EXPORTERS"):
        table = settings.getdict(name)
        assert not [key for key, value in table.items() if "scrapersky" in f"{key} {value}"], name
