"""Memory stays bounded whatever the number of listed URLs.

Parsing is measured in a fresh interpreter, so its peak RSS growth is the parse's own:
tracemalloc alone would miss libxml2's allocations, which is where an uncut tree would live.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from bench.inventory import crawl_env
from bench.site import build_site, urlset_body
from tests.conftest import ROOT
from tests.support.db import scalar
from tests.support.memory import own_peak_rss, wait_for_peak_rss

MB = 1024 * 1024
PARSED_URLS = 200_000
# A whole-document parse of 200,000 entries needs well over 100 MB; streaming needs a few.
PARSE_TRACED_LIMIT = 16 * MB
PARSE_RSS_GROWTH_LIMIT = 48 * MB
CRAWL_RSS_LIMIT = 300 * MB


def measure_parse(path: str) -> None:
    """Child process: parse a gzipped urlset the way the spider does, print counts and memory as JSON."""
    from scrapersky import settings
    from scrapersky.sitemaps import PageEntry, open_sitemap

    body = Path(path).read_bytes()
    chunk_size = settings.SCRAPERSKY_PAGE_CHUNK
    rss_before = own_peak_rss()
    tracemalloc.start()
    sitemap = open_sitemap(body, url="http://memory.test/sitemap.xml.gz")
    listed, chunk = 0, []
    for entry in sitemap.entries():
        if isinstance(entry, PageEntry):
            chunk.append(
                {
                    "url": entry.url,
                    "lastmod": entry.lastmod,
                    "changefreq": entry.changefreq,
                    "priority": entry.priority,
                    "alternates": entry.alternates or None,
                    "images": entry.images or None,
                    "news": entry.news,
                }
            )
        if len(chunk) >= chunk_size:
            listed += len(chunk)
            chunk = []
    listed += len(chunk)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_growth = own_peak_rss() - rss_before
    print(
        json.dumps(
            {
                "listed": listed,
                "error": sitemap.error,
                "traced_peak": traced_peak,
                "rss_growth": rss_growth,
            }
        )
    )


@pytest.mark.volume
def test_parsing_200k_urls_keeps_memory_flat(tmp_path):
    path = tmp_path / "sitemap.xml.gz"
    path.write_bytes(gzip.compress(urlset_body("memory.test", range(PARSED_URLS)), compresslevel=1))
    code = f"from tests.integration.test_memory import measure_parse; measure_parse({str(path)!r})"
    child = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=_unmeasured(os.environ),
    )
    assert child.returncode == 0, child.stderr[-2000:]
    found = json.loads(child.stdout.strip().splitlines()[-1])
    assert found["listed"] == PARSED_URLS and found["error"] is None
    assert found["traced_peak"] < PARSE_TRACED_LIMIT, (
        f"traced peak {found['traced_peak'] / MB:.1f} MB"
    )
    assert found["rss_growth"] < PARSE_RSS_GROWTH_LIMIT, (
        f"RSS grew {found['rss_growth'] / MB:.1f} MB"
    )


@pytest.mark.volume
@pytest.mark.postgres
def test_crawl_of_200k_url_site_keeps_peak_rss_bounded(tmp_path, postgres_url, web):
    site = build_site(
        PARSED_URLS, files=4, out=tmp_path
    )  # 50,000-URL sitemaps, as large as the protocol allows
    web.serve_directory(site.root)
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "sitemap",
        "-a",
        f"domain={site.host}",
        "-a",
        "max_pages=0",
    ]
    # No browser: its driver is a separate process of fixed size, and starting it only costs time here.
    env = _unmeasured(
        {
            **crawl_env(postgres_url, web.proxy_url),
            "SCRAPERSKY_CHROMIUM": str(tmp_path / "no-browser"),
        }
    )
    with open(tmp_path / "crawl.log", "w") as log:
        crawl = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        peak = wait_for_peak_rss(crawl, timeout=120)
    assert crawl.returncode == 0, (tmp_path / "crawl.log").read_text()[-3000:]
    assert scalar(postgres_url, "select count(*) from pages") == PARSED_URLS
    assert peak < CRAWL_RSS_LIMIT, f"crawl process peaked at {peak / MB:.0f} MB"


def _unmeasured(env) -> dict[str, str]:
    """The environment without `make test`'s coverage hook: its tracer's own memory is not the crawl's."""
    return {k: v for k, v in env.items() if k != "COVERAGE_PROCESS_START"}
