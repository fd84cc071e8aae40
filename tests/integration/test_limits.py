"""SCRAPERSKY_SITEMAPS_IN_FLIGHT, SCRAPERSKY_CONCURRENT_SCANS and Scrapy's
CONCURRENT_REQUESTS_PER_DOMAIN, observed where they matter: at the
server, as requests in progress at the same time. Each cap is run at two values, so the count is
seen to follow the setting rather than some other limit."""

from __future__ import annotations

import pytest

from tests.conftest import scrapy, scrapy_env
from tests.support.db import rows
from tests.support.fixture_web import Reply
from tests.support.in_flight import InFlight

SITEMAPS = 5
DOMAINS = 5


def _urlset(host: str, name: str) -> bytes:
    return (
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>http://{host}/{name}/page</loc></url></urlset>"
    ).encode()


def _crawl_many_sitemaps(web, tmp_path, host: str, cap: int, *args: str, **env: str) -> None:
    """Crawl a site of SITEMAPS sitemaps under the given limit; at most `cap` are in progress at
    the site at once, and every one is read."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    gauge = InFlight(expected=cap, total=SITEMAPS)
    site = web.site(host)
    site.add("/robots.txt", "".join(f"Sitemap: http://{host}/s{i}.xml\n" for i in range(SITEMAPS)))
    site.add("/", "<html><head><title>Many</title></head><body>sitemaps</body></html>")
    for i in range(SITEMAPS):
        site.handler(
            f"/s{i}.xml",
            gauge.route(Reply(200, _urlset(host, f"s{i}"), {"Content-Type": "application/xml"})),
        )
    result = scrapy(
        "crawl",
        "sitemap",
        "-a",
        f"domain={host}",
        *args,
        env=scrapy_env(url, web, SCRAPERSKY_SCHEMES="http", **env),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert gauge.arrived == SITEMAPS and gauge.peak == cap
    assert rows(url, "select sitemap_urls from domains")[0]["sitemap_urls"] == SITEMAPS


@pytest.mark.parametrize("cap", [1, 3])
def test_sitemaps_in_flight_per_scan(web, tmp_path, cap):
    _crawl_many_sitemaps(
        web, tmp_path, "many-sitemaps.test", cap, SCRAPERSKY_SITEMAPS_IN_FLIGHT=str(cap)
    )


@pytest.mark.parametrize("cap", [2, 4])
def test_concurrent_scans_per_run(web, tmp_path, cap):
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    hosts = [f"scan{i}.test" for i in range(DOMAINS)]
    gauge = InFlight(expected=cap, total=DOMAINS)
    for host in hosts:
        site = web.site(host)
        # robots.txt starts each scan: requests for it in progress at once are scans at once
        site.handler(
            "/robots.txt",
            gauge.route(
                Reply(
                    200, f"Sitemap: http://{host}/s.xml\n".encode(), {"Content-Type": "text/plain"}
                )
            ),
        )
        site.add("/s.xml", _urlset(host, "s"))
        site.add("/", f"<html><head><title>{host}</title></head><body>scan</body></html>")
    result = scrapy(
        "crawl",
        "sitemap",
        "-a",
        "domains=" + ",".join(hosts),
        env=scrapy_env(url, web, SCRAPERSKY_SCHEMES="http", SCRAPERSKY_CONCURRENT_SCANS=str(cap)),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert gauge.arrived == DOMAINS and gauge.peak == cap
    assert {r["status"] for r in rows(url, "select status from jobs")} == {"complete"}


@pytest.mark.parametrize("cap", [1, 3])
def test_requests_per_domain(web, tmp_path, cap):
    # More sitemaps may download at once than Scrapy's per-domain limit lets through: the limit
    # is what the site sees, with AutoThrottle off as the tests run (scrapersky/net/downloader.py).
    _crawl_many_sitemaps(
        web,
        tmp_path,
        "per-domain.test",
        cap,
        "-s",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={cap}",
        SCRAPERSKY_SITEMAPS_IN_FLIGHT=str(SITEMAPS),
    )
