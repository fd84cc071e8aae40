"""StorePipeline against a real PostgreSQL: one that goes away between two of its writes, and
scans whose ends share a write."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from scrapy.utils.test import get_crawler

from scrapersky.config.scan_options import ScanOptions
from scrapersky.db import jobs
from scrapersky.db.engine import in_transaction
from scrapersky.db.jobs import ClaimedJob
from scrapersky.items import DomainItem, PageBatchItem, SitemapFileItem
from scrapersky.pipelines import StorePipeline
from scrapersky.sitemaps import PageEntry
from scrapersky.spiders.scan import Scan
from tests.support.db import rows, scalar
from tests.support.tcp_gate import TcpGate

TENANT = "550e8400-e29b-41d4-a716-446655440000"
DOMAIN = "split.test"
SITEMAP = "http://split.test/sitemap.xml"


def _pages(start: int, count: int) -> PageBatchItem:
    return PageBatchItem(
        TENANT,
        DOMAIN,
        SITEMAP,
        [PageEntry(f"http://split.test/p{i}") for i in range(start, start + count)],
    )


def _through(gate: TcpGate, url: str) -> str:
    head, _, rest = url.rpartition("@")
    return f"{head}@127.0.0.1:{gate.port}/{rest.partition('/')[2]}"


async def _scan_with_an_outage(pipeline: StorePipeline, gate: TcpGate) -> DomainItem:
    gate.close()
    await pipeline.process_item(_pages(0, 3))  # the first three rows go to the (closed) database
    for _ in range(200):  # until that write has failed
        if pipeline.stats.get_value("scrapersky/store/lost_rows"):
            break
        await asyncio.sleep(0.05)
    gate.open()
    await pipeline.process_item(_pages(3, 3))
    await pipeline.process_item(
        SitemapFileItem(
            TENANT,
            DOMAIN,
            SITEMAP,
            "robots_txt",
            sitemap_type="urlset",
            url_count=6,
            status_code=200,
            etag='"v1"',
            last_modified="Mon, 30 Nov 2026 00:00:00 GMT",
            content_digest="0" * 32,
        )
    )
    domain = DomainItem(TENANT, DOMAIN, "complete", datetime.now(UTC), job_id="j1")
    await pipeline.process_item(domain)
    await pipeline.close_spider()
    return domain


def test_a_sitemap_whose_first_rows_were_lost_keeps_no_validators(postgres_url):
    gate = TcpGate(("127.0.0.1", 5432))
    gate.open()
    crawler = get_crawler()
    crawler.stats.open_spider()
    pipeline = StorePipeline(
        _through(gate, postgres_url), buffer_rows=3, retries=0, stats=crawler.stats
    )
    try:
        domain = asyncio.run(_scan_with_an_outage(pipeline, gate))
    finally:
        gate.close()
    # The lost rows are reported, the scan is failed, the later rows and the file are stored...
    assert crawler.stats.get_value("scrapersky/store/lost_rows") == 3
    assert domain.status == "failed" and "database write failed" in domain.last_error
    assert scalar(postgres_url, "select count(*) from pages") == 3
    # ...but without the validators or digest that would make the next scan skip it as unchanged.
    stored = rows(
        postgres_url,
        "select url_count, status_code, etag, last_modified, content_digest from sitemap_files",
    )
    assert stored == [
        {
            "url_count": 6,
            "status_code": 200,
            "etag": None,
            "last_modified": None,
            "content_digest": None,
        }
    ]


async def _end_behind_rows_waiting_for_room(pipeline: StorePipeline) -> None:
    # The first rows fill a batch and go to the writer; the next fill the following batch; the
    # third wait for room, and the scan's end arrives while they wait.
    domain = DomainItem(TENANT, DOMAIN, "complete", datetime.now(UTC), job_id="j1")
    await asyncio.gather(
        pipeline.process_item(_pages(0, 3)),
        pipeline.process_item(_pages(3, 3)),
        pipeline.process_item(_pages(6, 3)),
        pipeline.process_item(domain),
    )
    await pipeline.close_spider()


def test_a_scans_end_is_written_after_its_rows_that_waited_for_room(postgres_url):
    crawler = get_crawler()
    crawler.stats.open_spider()
    pipeline = StorePipeline(postgres_url, buffer_rows=3, retries=0, stats=crawler.stats)
    asyncio.run(_end_behind_rows_waiting_for_room(pipeline))
    assert crawler.stats.get_value("scrapersky/store/flushes") >= 3  # the third rows did wait
    assert scalar(postgres_url, "select count(*) from pages") == 9
    stored = rows(postgres_url, "select status, sitemap_urls from domains")
    assert stored == [{"status": "complete", "sitemap_urls": 9}]


def test_a_bug_in_the_write_path_fails_the_scan_instead_of_passing_for_stored(
    postgres_url, monkeypatch
):
    import scrapersky.pipelines

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(scrapersky.pipelines, "write_batch", broken)
    crawler = get_crawler()
    crawler.stats.open_spider()
    pipeline = StorePipeline(postgres_url, buffer_rows=3, retries=0, stats=crawler.stats)
    domain = DomainItem(TENANT, DOMAIN, "complete", datetime.now(UTC), job_id="j1")

    async def scan() -> None:
        await pipeline.process_item(_pages(0, 3))
        await pipeline.process_item(domain)
        await pipeline.close_spider()

    asyncio.run(scan())
    assert domain.status == "failed" and "KeyError" in domain.last_error
    assert crawler.stats.get_value("scrapersky/store/lost_rows") == 3


def _scans_of(url: str, domains: list[str]) -> list[Scan]:
    """Scans of real jobs (their scan_changes rows name them)."""
    made = in_transaction(url, jobs.add_jobs, TENANT, domains, run_id="r1", options={})
    return [
        Scan(
            job=ClaimedJob(job.id, job.job_id, TENANT, job.domain, None, {}),
            options=ScanOptions(),
            schemes=["http"],
        )
        for job in made
    ]


def _ends_at(url: str, gather: float, at: list[float]) -> tuple[int, list[float]]:
    """One scan per DOMAINS entry, each ending at its time (seconds from the start) through a
    pipeline that gathers for `gather` seconds: (writes made, the seconds each end waited)."""
    crawler = get_crawler()
    crawler.stats.open_spider()
    pipeline = StorePipeline(url, 1000, 0, crawler.stats, gather=gather)
    scans = _scans_of(url, DOMAINS)

    async def end(scan: Scan, after: float) -> float:
        await asyncio.sleep(after)
        started = time.monotonic()
        item = DomainItem(
            TENANT, scan.domain, "complete", datetime.now(UTC), job_id=scan.job.job_id
        )
        await pipeline.process_item(item)
        return time.monotonic() - started

    async def run() -> list[float]:
        for scan in scans:
            pipeline.scan_started(scan)
        waited = await asyncio.gather(
            *(end(scan, after) for scan, after in zip(scans, at, strict=True))
        )
        await pipeline.close_spider()
        return list(waited)

    waited = asyncio.run(run())
    return crawler.stats.get_value("scrapersky/store/flushes"), waited


DOMAINS = ["one.test", "two.test", "three.test", "four.test"]


def test_ends_of_scans_finishing_together_share_one_write(postgres_url):
    flushes, waited = _ends_at(postgres_url, 0.5, [0, 0.05, 0.1, 1.0])
    # The first three ends waited for company (the fourth scan was still under way) and went
    # together; the fourth, with no scan left to wait for, was written at once.
    assert flushes == 2
    assert waited[0] >= 0.45 and waited[3] < 0.4
    stored = rows(postgres_url, "select domain, status from domains order by domain")
    assert stored == [{"domain": d, "status": "complete"} for d in sorted(DOMAINS)]


def test_without_gathering_each_end_is_written_as_it_comes(postgres_url):
    flushes, waited = _ends_at(postgres_url, 0.0, [0, 0.1, 0.2, 0.3])
    assert flushes == 4
    assert max(waited) < 0.4
