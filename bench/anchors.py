"""Anchors: the same work done by other tools, measured in the same run.

- ultimate-sitemap-parser (usp) listing the bench site over HTTP through the fixture proxy;
- Scrapy's own SitemapSpider on the same site, counting listed URLs instead of scheduling them;
- lxml's iterparse over the same sitemap files straight from disk;
- raw PostgreSQL COPY of the same rows into a copy of the pages table (same indexes, no foreign keys);
- a per-item ORM get-or-create pipeline, on a smaller sample.

usp and Scrapy run as processes of their own (bench.listers), timed from process start
to exit like our crawl. The other anchors run in-process.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import time
from pathlib import Path

from lxml import etree
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench import MB, Figure, fresh_postgres, run_dir, run_measured
from bench.site import NAMESPACE, ROOT, BenchSite
from bench.writepath import page_entry
from scrapersky.db.engine import get_engine
from scrapersky.db.models import Domain, Page, SitemapFile
from tests.support.commands import scrapy_env

COPY_BATCH = 50_000


def _child(tool: str, site: BenchSite, proxy: str) -> tuple[float, int, float]:
    """Run an HTTP anchor in its own process: (wall seconds, URLs found, peak RSS in MB)."""
    log = run_dir() / f"anchor-{tool}.log"
    result = run_dir() / f"anchor-{tool}.json"
    env = scrapy_env("sqlite://", None, http_proxy=proxy, https_proxy=proxy)
    measured = run_measured(
        [sys.executable, "-m", "bench.listers", tool, f"http://{site.host}/", str(result)],
        env=env,
        cwd=ROOT,
        log=log,
    )
    if measured.returncode != 0 or not result.is_file():
        raise RuntimeError(f"anchor {tool} exited {measured.returncode}; see {log}")
    return measured.seconds, json.loads(result.read_text())["found"], measured.peak_rss / MB


def usp_anchor(site: BenchSite, proxy: str) -> Figure:
    seconds, found, rss = _child("usp", site, proxy)
    return Figure(
        "anchor.usp",
        "anchor: ultimate-sitemap-parser (HTTP, no database)",
        seconds,
        "s",
        found=found,
        note=f"sitemap_tree_for_homepage + all_pages(); peak RSS {rss:.0f} MB",
    )


def scrapy_anchor(site: BenchSite, proxy: str) -> Figure:
    seconds, found, rss = _child("scrapy", site, proxy)
    return Figure(
        "anchor.scrapy",
        "anchor: Scrapy SitemapSpider (HTTP, no database)",
        seconds,
        "s",
        found=found,
        note=f"page requests built and counted, never scheduled; peak RSS {rss:.0f} MB",
    )


def lxml_anchor(site: BenchSite) -> Figure:
    started = time.perf_counter()
    found = sum(_count_locs(path) for path in site.sitemap_paths)
    seconds = time.perf_counter() - started
    return Figure(
        "anchor.lxml",
        "anchor: lxml iterparse from disk",
        seconds,
        "s",
        found=found,
        note="the urlset files read in-process, gunzipped where needed, <loc> text taken",
    )


def _count_locs(path: Path) -> int:
    url_tag, loc_tag = f"{{{NAMESPACE}}}url", f"{{{NAMESPACE}}}loc"
    found = 0
    with gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb") as stream:
        for _event, element in etree.iterparse(stream, tag=url_tag):
            if element.findtext(loc_tag):
                found += 1
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    return found


def copy_anchor(total: int) -> Figure:
    """Rows/s of formatting CSV and COPYing it into a table like pages (same indexes, no foreign keys)."""
    with fresh_postgres() as url:
        connection = get_engine(url).raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                "CREATE TABLE copy_pages (LIKE pages INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
            connection.commit()
            seconds = 0.0
            for start in range(0, total, COPY_BATCH):
                rows = [
                    (1, 1, entry.url, entry.lastmod, entry.changefreq, entry.priority)
                    for entry in map(page_entry, range(start, min(start + COPY_BATCH, total)))
                ]
                began = time.perf_counter()
                buffer = io.StringIO()
                csv.writer(buffer).writerows(rows)
                buffer.seek(0)
                cursor.copy_expert(
                    "COPY copy_pages (domain_id, sitemap_file_id, url, lastmod, changefreq, priority) "
                    "FROM STDIN WITH (FORMAT csv)",
                    buffer,
                )
                seconds += time.perf_counter() - began
            began = time.perf_counter()
            connection.commit()
            seconds += time.perf_counter() - began
            cursor.execute("SELECT count(*) FROM copy_pages")
            copied = cursor.fetchone()[0]
        finally:
            connection.close()
    return Figure(
        "anchor.copy",
        "anchor: PostgreSQL raw COPY",
        copied / seconds,
        "rows/s",
        found=copied,
        note=f"{copied:,} rows in {seconds:.1f} s, CSV formatting included, one transaction, "
        f"table and indexes like pages without foreign keys",
    )


def orm_anchor(rows: int) -> Figure:
    """The per-item ORM get-or-create pipeline: one lookup, one insert and one commit per URL."""
    with fresh_postgres() as url:
        engine = get_engine(url)
        with Session(engine) as session:
            domain = Domain(tenant_id="550e8400-e29b-41d4-a716-446655440000", domain="orm.test")
            session.add(domain)
            session.flush()
            sitemap = SitemapFile(domain_id=domain.id, url="http://orm.test/sitemap.xml")
            session.add(sitemap)
            session.commit()
            domain_id, sitemap_id = domain.id, sitemap.id
        items = [page_entry(i) for i in range(rows)]
        started = time.perf_counter()
        with Session(engine) as session:
            for item in items:
                page = session.scalar(
                    select(Page).where(Page.domain_id == domain_id, Page.url == item.url)
                )
                if page is None:
                    page = Page(domain_id=domain_id, url=item.url)
                    session.add(page)
                page.sitemap_file_id = sitemap_id
                page.lastmod, page.changefreq, page.priority = (
                    item.lastmod,
                    item.changefreq,
                    item.priority,
                )
                session.commit()
        seconds = time.perf_counter() - started
        with engine.connect() as connection:
            stored = connection.scalar(text("SELECT count(*) FROM pages"))
    return Figure(
        "anchor.orm",
        "anchor: per-item ORM get-or-create",
        rows / seconds,
        "rows/s",
        found=stored,
        note=f"{rows:,} rows, a commit per row, PostgreSQL",
    )


def run(site: BenchSite, proxy: str, orm_rows: int) -> list[Figure]:
    return [
        usp_anchor(site, proxy),
        scrapy_anchor(site, proxy),
        lxml_anchor(site),
        copy_anchor(site.urls),
        orm_anchor(orm_rows),
    ]
