"""Job and batch lifecycle: every transition driven by real processes on both databases."""

from __future__ import annotations

import json
import os
import signal
import threading

from scrapersky.db import jobs
from scrapersky.db.engine import in_transaction
from tests.conftest import scrapy, scrapy_env, start_scrapy
from tests.support.db import rows, scalar, wait_until_stale
from tests.support.in_process import run_command
from tests.support.waiting import wait_for

TENANT = "550e8400-e29b-41d4-a716-446655440000"


def small_site(web, host: str, pages: int = 5, delay: float = 0.0):
    site = web.site(host)
    urls = "".join(f"<url><loc>http://{host}/p{i}</loc></url>" for i in range(pages))
    site.add("/robots.txt", f"Sitemap: http://{host}/sitemap.xml\n")
    site.add(
        "/sitemap.xml",
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        delay=delay,
    )
    site.add("/", f"<html><head><title>{host}</title></head><body>Welcome to {host}</body></html>")
    return site


def test_sigkill_mid_scan_is_failed_by_the_next_look(database_url, web, tmp_path):
    small_site(web, "slow.test", delay=60)
    env = scrapy_env(database_url, web, SCRAPERSKY_STALE_AFTER="2")
    proc = start_scrapy(
        "crawl", "sitemap", "-a", "domain=slow.test", env=env, log=tmp_path / "crawl.log"
    )
    try:
        wait_for(
            lambda: scalar(database_url, "select count(*) from jobs where status = 'running'") == 1
        )
        wait_for(
            lambda: (
                scalar(database_url, "select count(*) from jobs where heartbeat_at > started_at")
                == 1
            )
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    assert scalar(database_url, "select status from jobs") == "running"  # nobody has looked yet
    wait_until_stale(database_url, 2)
    status = scrapy("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    job = rows(database_url, "select status, error, finished_at from jobs")[0]
    assert (
        job["status"] == "failed" and job["error"] == "stale: process died" and job["finished_at"]
    )
    # a rescan completes the domain
    web.site("slow.test").add(
        "/sitemap.xml", "<urlset><url><loc>http://slow.test/p0</loc></url></urlset>"
    )
    again = scrapy("crawl", "sitemap", "-a", "domain=slow.test", env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert scalar(database_url, "select status from domains") == "complete"


def test_two_runs_share_a_batch_and_scan_each_domain_once(database_url, web, tmp_path):
    hosts = [f"b{i}.test" for i in range(24)]
    # Every sitemap is held until both runs have claimed work: however late the second run
    # starts, the first cannot scan the whole batch alone.
    both_claimed = threading.Event()
    for host in hosts:
        sitemap = small_site(web, host).route("/sitemap.xml").reply

        def held(request, sitemap=sitemap):
            assert both_claimed.wait(timeout=90), "the second run never claimed a job"
            return sitemap

        web.site(host).handler("/sitemap.xml", held)
    batch = in_transaction(database_url, jobs.create_batch, TENANT, hosts, {"max_pages": 0})
    env = scrapy_env(
        database_url,
        web,
        SCRAPERSKY_CONCURRENT_SCANS="3",
        SCRAPERSKY_SCHEMES="http",
        DOWNLOAD_TIMEOUT="150",  # the hold, not a download timeout, decides
    )
    runs = [
        start_scrapy(
            "crawl",
            "sitemap",
            "-a",
            f"batch_id={batch.batch_id}",
            "-a",
            f"_job=run{n}",
            env=env,
            log=tmp_path / f"run{n}.log",
        )
        for n in (1, 2)
    ]
    try:
        wait_for(
            lambda: (
                scalar(
                    database_url,
                    "select count(distinct run_id) from jobs where run_id in ('run1', 'run2')",
                )
                == 2
            ),
            timeout=90,
        )
    finally:
        both_claimed.set()
    for n, proc in enumerate(runs, 1):
        assert proc.wait(120) == 0, (tmp_path / f"run{n}.log").read_text()[-3000:]
    found = rows(database_url, "select domain, status, run_id, attempts from jobs order by domain")
    assert sorted(j["domain"] for j in found) == sorted(hosts)
    assert {j["status"] for j in found} == {"complete"} and {j["attempts"] for j in found} == {1}
    assert {j["run_id"] for j in found} == {"run1", "run2"}  # both runs took work
    for host in hosts:  # each domain fetched by exactly one run
        assert len(web.hits(host, "/sitemap.xml")) == 1
    stored = rows(database_url, "select * from batch_jobs")[0]
    assert (
        stored["status"],
        stored["completed_domains"],
        stored["failed_domains"],
        stored["progress"],
    ) == ("complete", 24, 0, 1.0)
    assert stored["start_time"] and stored["end_time"]


def test_batch_counters_equal_job_rows_after_failures(database_url, web):
    for host in ("ok1.test", "ok2.test", "ok3.test"):
        small_site(web, host)
    web.site("down.test").add("/robots.txt", "oops", status=503).add("/", "down", status=503)
    names = [
        "ok1.test",
        "ok2.test",
        "ok3.test",
        "down.test",
        "missing.test",
        "not a domain",
        "127.0.0.1",
        "ok1.test",
    ]
    batch = in_transaction(database_url, jobs.create_batch, TENANT, names, {})
    assert batch.total_domains == 7 and batch.failed_domains == 2  # duplicate folded, two invalid
    result = scrapy(
        "crawl",
        "sitemap",
        "-a",
        f"batch_id={batch.batch_id}",
        env=scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http"),
    )
    assert result.returncode == 1  # some scans failed
    stored = rows(database_url, "select * from batch_jobs")[0]
    by_status = {
        r["status"]: r["n"]
        for r in rows(database_url, "select status, count(*) n from jobs group by status")
    }
    assert stored["completed_domains"] == by_status["complete"] == 3
    assert stored["failed_domains"] == by_status["failed"] == 4
    assert stored["status"] == "partial" and stored["progress"] == 1.0
    errors = {r["domain"]: r["error"] for r in rows(database_url, "select domain, error from jobs")}
    assert "503" in errors["down.test"] and "502" in errors["missing.test"]
    assert "invalid" in errors["not a domain"].lower() and errors["127.0.0.1"]


def test_all_failed_batch_is_failed(database_url, web):
    batch = in_transaction(
        database_url, jobs.create_batch, TENANT, ["gone1.test", "gone2.test"], {}
    )
    scrapy(
        "crawl",
        "sitemap",
        "-a",
        f"batch_id={batch.batch_id}",
        env=scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http"),
    )
    assert rows(database_url, "select status, failed_domains from batch_jobs")[0] == {
        "status": "failed",
        "failed_domains": 2,
    }


def test_graceful_shutdown_marks_running_jobs_cancelled(database_url, web, tmp_path):
    small_site(web, "cancel.test", delay=60)
    # Scrapy lets the request in flight run up to DOWNLOAD_TIMEOUT before it stops.
    env = scrapy_env(database_url, web, DOWNLOAD_TIMEOUT="3")
    proc = start_scrapy(
        "crawl", "sitemap", "-a", "domain=cancel.test", env=env, log=tmp_path / "c.log"
    )
    try:
        wait_for(
            lambda: scalar(database_url, "select count(*) from jobs where status = 'running'") == 1
        )
        proc.send_signal(signal.SIGINT)  # what Scrapyd's cancel.json sends
        proc.wait(60)
    finally:
        proc.kill()
    job = rows(database_url, "select status, error from jobs")[0]
    assert job["status"] == "cancelled" and "shutdown" in job["error"]


def test_progress_and_heartbeat_are_written_while_running(database_url, web, tmp_path):
    site = small_site(web, "beat.test")
    listing = site.route("/sitemap.xml").reply
    release = threading.Event()

    def held_sitemap(request):  # the scan stays mid-way until the test has seen it there
        release.wait(120)
        return listing

    site.handler("/sitemap.xml", held_sitemap)
    env = scrapy_env(database_url, web, SCRAPERSKY_STALE_AFTER="2", SCRAPERSKY_SCHEMES="http")
    proc = start_scrapy(
        "crawl", "sitemap", "-a", "domain=beat.test", env=env, log=tmp_path / "b.log"
    )
    try:
        wait_for(lambda: web.hits("beat.test", "/sitemap.xml"))
        first = wait_for(
            lambda: scalar(database_url, "select heartbeat_at from jobs where status = 'running'")
        )
        later = wait_for(
            lambda: (
                (v := scalar(database_url, "select heartbeat_at from jobs")) and v != first and v
            )
        )
        assert str(later) > str(first)
        assert 0 < scalar(database_url, "select progress from jobs") < 1
        assert scalar(database_url, "select status from jobs") == "running"
        release.set()
        assert proc.wait(60) == 0
    finally:
        release.set()
        proc.kill()
    assert rows(database_url, "select status, progress from jobs")[0] == {
        "status": "complete",
        "progress": 1.0,
    }


def test_status_accepts_every_id_form(database_url, web):
    small_site(web, "ids.test")
    env = scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http")
    for _ in range(2):
        in_transaction(database_url, jobs.create_batch, TENANT, [], {})
    batch = in_transaction(database_url, jobs.create_batch, TENANT, ["ids.test"], {})
    assert (
        scrapy(
            "crawl",
            "sitemap",
            "-a",
            f"batch_id={batch.batch_id}",
            "-a",
            "_job=scrapyd-run-1",
            env=env,
        ).returncode
        == 0
    )
    job = rows(database_url, "select id, job_id, run_id from jobs")[0]
    # `scrapy status` in this process (tests.support.in_process): the real executable is
    # run by test_sigkill_mid_scan_is_failed_by_the_next_look above.
    for ident in (str(job["job_id"]), job["run_id"]):
        shown = json.loads(run_command("status", ident, "--json", env=env).stdout)
        assert shown["job"]["job_id"] == job["job_id"] and shown["job"]["status"] == "complete"
    shown = json.loads(run_command("status", batch.batch_id, "--json", env=env).stdout)
    assert (
        shown["batch"]["status"] == "complete" and shown["batch"]["jobs"][0]["domain"] == "ids.test"
    )
    # Integer ids: a job's when a job has that number, else the batch's (two empty batches first,
    # so the batch's number is no job's).
    assert (job["id"], batch.id) == (1, 3)
    shown = json.loads(run_command("status", str(job["id"]), "--json", env=env).stdout)
    assert shown["job"]["job_id"] == job["job_id"]
    shown = json.loads(run_command("status", str(batch.id), "--json", env=env).stdout)
    assert shown["batch"]["batch_id"] == batch.batch_id
    missing = run_command("status", "no-such-id", env=env)
    assert missing.returncode == 3 and missing.stderr.strip().startswith("error: ")
    table = run_command("status", batch.batch_id, env=env)
    assert table.returncode == 0 and "ids.test" in table.stdout


def test_a_run_shut_down_gives_back_the_jobs_it_claimed_and_never_started(
    sqlite_url, web, tmp_path
):
    """Four scan slots claim two jobs at a time: when first.test ends, the run claims two more,
    starts one and holds the other for the next free slot. A shutdown then ends what it started
    (cancelled) and gives the held job back to the batch, pending and its attempt not counted."""
    release = threading.Event()
    slow = [f"slow{i}.test" for i in range(5)]
    small_site(web, "first.test")
    for host in slow:
        site = small_site(web, host)
        listing = site.route("/sitemap.xml").reply

        def held(request, listing=listing):
            release.wait(120)
            return listing

        site.handler("/sitemap.xml", held)
    batch = in_transaction(sqlite_url, jobs.create_batch, TENANT, ["first.test", *slow], {})
    env = scrapy_env(sqlite_url, web, SCRAPERSKY_CONCURRENT_SCANS="4", SCRAPERSKY_SCHEMES="http")
    proc = start_scrapy(
        "crawl", "sitemap", "-a", f"batch_id={batch.batch_id}", env=env, log=tmp_path / "s.log"
    )
    try:
        wait_for(lambda: len(web.hits(path="/sitemap.xml")) >= 5)  # first.test and slow0-3
        wait_for(
            lambda: scalar(sqlite_url, "select count(*) from jobs where status = 'running'") == 5
        )
        proc.send_signal(signal.SIGINT)
        release.set()  # the held downloads end, so the shutdown does not wait on them
        proc.wait(60)
    finally:
        release.set()
        proc.kill()
    found = {
        r["domain"]: (r["status"], r["attempts"], r["run_id"])
        for r in rows(sqlite_url, "select domain, status, attempts, run_id from jobs")
    }
    assert found["first.test"][:2] == ("complete", 1)
    assert found["slow4.test"] == ("pending", 0, None)
    assert {found[host][:2] for host in slow[:4]} == {("cancelled", 1)}
