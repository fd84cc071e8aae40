"""Faults against real PostgreSQL and real processes: nothing lost, nothing left running."""

from __future__ import annotations

import pytest

from tests.conftest import scrapy, scrapy_env
from tests.faults import scenarios
from tests.support.db import rows, scalar


@pytest.mark.volume
def test_database_outage_mid_crawl_loses_nothing(postgres_url, web, tmp_path):
    outcome = scenarios.database_outage(
        postgres_url, web, tmp_path / "crawl.log", down_for=4, retries=8
    )
    assert outcome.job_status == "complete", (
        outcome.detail,
        (tmp_path / "crawl.log").read_text()[-3000:],
    )
    assert outcome.lost == 0 and outcome.stored == outcome.expected == 40000
    assert "retries 0" not in outcome.detail  # the outage really hit the store
    assert scalar(postgres_url, "select count(*) from pages") == 40000  # exactly once


@pytest.mark.volume
def test_database_gone_too_long_fails_the_job_with_the_reason(postgres_url, web, tmp_path):
    outcome = scenarios.database_outage(
        postgres_url, web, tmp_path / "crawl.log", down_for=6, retries=1
    )
    assert outcome.job_status == "failed", outcome.detail
    job = rows(postgres_url, "select error, stats from jobs")[0]
    assert "database write failed" in job["error"]
    assert outcome.detail.startswith("exit 1")
    # what could not be written is counted, never silently dropped
    assert job["stats"]["scrapersky/store/lost_rows"] == outcome.unwritten > 0
    # Every row stored or reported; a write cut with its COMMIT on the wire is reported, at most
    # one write's rows (SCRAPERSKY_STORE_BUFFER 5,000 and a chunk of 2,000) that were stored.
    assert outcome.lost == 0 and outcome.overreported <= 7000, outcome


@pytest.mark.volume
def test_rescan_after_rows_were_lost_stores_every_page(postgres_url, web, tmp_path):
    # The fixture sites answer conditional requests: a sitemap whose rows were lost must not be
    # skipped as "304 Not Modified" by the next scan.
    # A buffer smaller than a sitemap: its first rows can be lost while its file row, written
    # after the database is back, carries the ETag the next scan would send.
    outcome = scenarios.database_outage(
        postgres_url, web, tmp_path / "crawl.log", down_for=2, retries=1, store_buffer=3000
    )
    assert outcome.job_status == "failed" and outcome.unwritten > 0, outcome.detail
    again = scrapy(
        "crawl",
        "sitemap",
        "-a",
        "domain=outage.test",
        env=scrapy_env(postgres_url, web, SCRAPERSKY_SCHEMES="http"),
        timeout=180,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert scalar(postgres_url, "select count(*) from pages") == outcome.expected
    assert rows(postgres_url, "select status from jobs order by id")[-1]["status"] == "complete"


def test_sigkill_mid_scan_then_rescan_completes(database_url, web, tmp_path):
    outcome = scenarios.killed_mid_scan(database_url, web, tmp_path / "crawl.log")
    assert outcome.job_status == "failed/complete", outcome.detail
    assert "stale: process died" in outcome.detail
    assert outcome.lost == 0


@pytest.mark.volume
def test_two_scans_of_one_domain_at_once(database_url, web, tmp_path):
    outcome = scenarios.concurrent_scans(database_url, web, tmp_path)
    assert outcome.job_status == "complete/complete", outcome.detail
    assert outcome.stored == outcome.expected == 40000 and outcome.lost == 0
    assert "domain rows 1" in outcome.detail and "problems none" in outcome.detail
    assert "sitemaps downloaded by both at once 4/4" in outcome.detail
