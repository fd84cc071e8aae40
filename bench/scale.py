"""Scale: a site ten times the bench site's size, first scan into PostgreSQL.

10,000,000 URLs at full size: robots.txt → an index of 10 indexes → 200 urlsets of 50,000,
half gzipped (bench.site with `per_index`). One first scan into a fresh database, measured like
the inventory's (process start to exit, peak RSS of the process tree), then a count that every
row is stored with its fields. Its time is set beside the bench site's first scan of the same
run: linear means at most 10.5 × that, with no slowdown as the table grows.
"""

from __future__ import annotations

from bench import MB, Figure, fresh_postgres
from bench.inventory import PEAK_RSS_TARGET_MB, run_crawl
from bench.site import BenchSite, build_site, serve
from tests.support.db import scalar

FACTOR = 10
FILES, PER_INDEX = 200, 20
LINEAR_TARGET = 10.5  # × the first scan of a site a tenth the size


def build(site: BenchSite) -> BenchSite:
    return build_site(site.urls * FACTOR, files=FILES, per_index=PER_INDEX)


def run(site: BenchSite, proxy: str, first_scan_seconds: float | None, full: bool) -> list[Figure]:
    """Scan the site ten times `site`'s size. `first_scan_seconds`: `site`'s first scan in this
    run (bench.inventory); without it, one is measured here (`site` served at `proxy`)."""
    if first_scan_seconds is None:
        with fresh_postgres() as database_url:
            first_scan_seconds = run_crawl(database_url, proxy, site.host, "first").measured.seconds
    large = build(site)
    print(
        f"scale site: {large.host}, {large.urls:,} URLs in {FILES} sitemaps under "
        f"{FILES // PER_INDEX} indexes",
        flush=True,
    )
    with serve(large.root) as proxy, fresh_postgres() as database_url:
        crawl = run_crawl(database_url, proxy, large.host, "scale")
        stored = scalar(
            database_url,
            "select count(*) from pages where lastmod is not null "
            "and changefreq is not null and priority is not null",
        )
    seconds, peak = crawl.measured.seconds, crawl.measured.peak_rss / MB
    ratio = seconds / first_scan_seconds
    every_row = stored == large.urls
    return [
        Figure(
            "scale.first",
            f"scale: first scan of {large.urls:,} URLs → PostgreSQL",
            seconds,
            "s",
            f"≤ {LINEAR_TARGET:g} × the {site.urls:,}-URL first scan, every row",
            every_row and (ratio <= LINEAR_TARGET or not full),
            found=stored,
            versus=f"{ratio:.2f} × the {site.urls:,}-URL first scan ({first_scan_seconds:.2f} s)",
            note=f"{stored:,} of {large.urls:,} rows stored with lastmod, changefreq and priority; "
            f"index of {FILES // PER_INDEX} indexes of {PER_INDEX} urlsets",
        ),
        Figure(
            "scale.rss",
            "scale: peak RSS of the crawl",
            peak,
            "MB",
            f"≤ {PEAK_RSS_TARGET_MB} MB",
            peak <= PEAK_RSS_TARGET_MB,
            note=f"longest reactor stall {crawl.max_stall_ms:.0f} ms",
        ),
    ]
