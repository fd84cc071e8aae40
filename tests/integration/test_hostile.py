"""Hostile input: bad arguments, tenants, TLS, timeouts, 5xx (the address policy: test_trust_boundary.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scrapersky.db import jobs
from scrapersky.db.engine import in_transaction
from tests.conftest import ROOT, scrapy, scrapy_env
from tests.support.db import rows, scalar
from tests.support.in_process import run_command
from tests.support.memory import wait_for_peak_rss
from tests.support.tls import start_tls_server


@pytest.mark.parametrize(
    "args, message",
    [
        (["-a", "domain=127.0.0.1"], "invalid domain"),
        (["-a", "domain=[::1]"], "invalid domain"),
        (["-a", "domain="], "exactly one"),
        (["-a", "domain=ok.test", "-a", "domains=a.test"], "exactly one"),
        (["-a", "domain=ok.test", "-a", "max_pages=-1"], "max_pages"),
        (["-a", "domain=ok.test", "-a", "max_pages=lots"], "max_pages"),
        (["-a", "domain=ok.test", "-a", "render=sometimes"], "render"),
        (["-a", "domain=ok.test", "-a", "tenant_id=nope"], "tenant_id"),
        (["-a", "domain=ok.test", "-a", "colour=blue"], "unknown spider argument"),
        (["-a", "domains_file=/no/such/file.txt"], "domains_file"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, args, message):
    # In this process (tests.support.in_process); the /dev/zero test below runs the real
    # `scrapy crawl` with a bad argument.
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = run_command("crawl", "sitemap", *args, env=scrapy_env(url))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("error: ") and message in lines[0]


@pytest.mark.parametrize(
    "database, message, code",
    [
        ("not a url", "DATABASE_URL", 2),
        ("mysql://root@127.0.0.1/x", "sqlite or postgresql", 2),
        ("postgresql+psycopg2://postgres@127.0.0.1:1/x", "unreachable", 5),  # not bad input
    ],
)
def test_bad_database_urls_are_one_line_errors(database, message, code):
    # In this process; test_readme_promises runs the real `scrapy crawl` refused by its database.
    result = run_command("crawl", "sitemap", "-a", "domain=ok.test", env=scrapy_env(database))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and len(lines) == 1, result.stderr[-2000:]
    assert message in lines[0], result.stderr[-2000:]


def test_empty_and_huge_domain_files(tmp_path):
    # In this process; the /dev/zero test below runs the real `scrapy crawl` over a huge file.
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n")
    result = run_command("crawl", "sitemap", "-a", f"domains_file={empty}", env=scrapy_env(url))
    assert result.returncode == 2 and "no domains" in result.stderr
    huge = tmp_path / "huge.txt"
    with huge.open("w") as out:
        out.write("x" * (51 * 1024 * 1024))
    result = run_command("crawl", "sitemap", "-a", f"domains_file={huge}", env=scrapy_env(url))
    assert (
        result.returncode == 2
        and "larger than" in result.stderr
        and len(result.stderr.strip().splitlines()) == 1
    )


def test_domain_files_are_capped_by_bytes_read_not_by_their_reported_size(tmp_path, web):
    """/dev/zero reports a size of 0: the cap must count what is read."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    command = [sys.executable, "-m", "scrapy", "crawl", "sitemap", "-a", "domains_file=/dev/zero"]
    process = subprocess.Popen(
        command,
        env=scrapy_env(url, web),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = wait_for_peak_rss(process, timeout=120)
    assert process.returncode == 2
    assert process.stderr.read().strip().splitlines() == [
        "error: domains_file /dev/zero: larger than 50 MiB"
    ]
    assert peak < 300 * 1024 * 1024


def test_invalid_domains_in_a_list_become_failed_jobs(sqlite_url, web, crawl):
    web.site("fine.test").add("/", "<html><head><title>Fine</title></head><body>x</body></html>")
    result = crawl(
        sqlite_url, "-a", "domains=fine.test,bad domain,10.0.0.1", SCRAPERSKY_SCHEMES="http"
    )
    assert result.returncode == 1
    found = {r["domain"]: r for r in rows(sqlite_url, "select domain, status, error from jobs")}
    assert found["fine.test"]["status"] == "complete"
    assert (
        found["bad domain"]["status"] == "failed"
        and "invalid domain" in found["bad domain"]["error"]
    )
    assert found["10.0.0.1"]["status"] == "failed"
    assert (
        scalar(sqlite_url, "select count(*) from jobs where status in ('pending', 'running')") == 0
    )


def test_a_tenant_never_touches_another_tenants_rows(database_url, web, crawl):
    a, b = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    site = web.site("shared.test")
    site.add("/robots.txt", "Sitemap: http://shared.test/s.xml\n")
    site.add("/s.xml", "<urlset><url><loc>http://shared.test/one</loc></url></urlset>")
    site.add("/", "<html><head><title>First</title></head><body>x</body></html>")
    assert (
        crawl(
            database_url,
            "-a",
            "domain=shared.test",
            "-a",
            f"tenant_id={a}",
            SCRAPERSKY_SCHEMES="http",
        ).returncode
        == 0
    )
    before = rows(database_url, "select * from domains where tenant_id = :t", t=a)
    site.add("/", "<html><head><title>Second</title></head><body>x</body></html>")
    site.add("/s.xml", "<urlset><url><loc>http://shared.test/two</loc></url></urlset>")
    assert (
        crawl(
            database_url,
            "-a",
            "domain=shared.test",
            "-a",
            f"tenant_id={b}",
            SCRAPERSKY_SCHEMES="http",
        ).returncode
        == 0
    )
    assert rows(database_url, "select * from domains where tenant_id = :t", t=a) == before
    pages_a = rows(
        database_url,
        "select p.url from pages p join domains d on d.id = p.domain_id where d.tenant_id = :t",
        t=a,
    )
    assert [p["url"] for p in pages_a] == ["http://shared.test/one"]
    env = scrapy_env(database_url, web)
    listed = scrapy("status", "--json", "--tenant-id", b, env=env)
    assert (
        listed.returncode == 0
        and '"tenant_id": "' + b + '"' in listed.stdout
        and a not in listed.stdout
    )


def test_invalid_tls_certificate_is_a_failed_job(sqlite_url, web, crawl, tmp_path):
    server = start_tls_server(tmp_path, "tls.test")
    web.tunnels["tls.test"] = ("127.0.0.1", server.server_address[1])
    try:
        result = crawl(sqlite_url, "-a", "domain=tls.test", SCRAPERSKY_SCHEMES="https")
    finally:
        server.shutdown()
    assert result.returncode == 1
    job = rows(sqlite_url, "select status, error from jobs")[0]
    assert job["status"] == "failed" and "unreachable" in job["error"]
    assert "certificate" in job["error"].lower() or "ssl" in job["error"].lower()


def test_timeouts_refusals_and_5xx_fail_their_jobs_and_the_batch_carries_on(sqlite_url, web):
    web.site("slowpoke.test").add("/robots.txt", "x", delay=10).add("/", "x", delay=10)
    web.site("broken.test").add("/robots.txt", "oops", status=500).add("/", "oops", status=503)
    for i in range(3):
        web.site(f"good{i}.test").add(
            "/", f"<html><head><title>Good {i}</title></head><body>x</body></html>"
        )
    batch = in_transaction(
        sqlite_url,
        jobs.create_batch,
        "550e8400-e29b-41d4-a716-446655440000",
        ["slowpoke.test", "broken.test", "good0.test", "good1.test", "good2.test"],
        {},
    )
    env = scrapy_env(
        sqlite_url, web, SCRAPERSKY_SCHEMES="http", DOWNLOAD_TIMEOUT="2", RETRY_TIMES="0"
    )
    result = scrapy(
        "crawl", "sitemap", "-a", f"batch_id={batch.batch_id}", "-s", "DOWNLOAD_TIMEOUT=2", env=env
    )
    assert result.returncode == 1
    found = {r["domain"]: r for r in rows(sqlite_url, "select domain, status, error from jobs")}
    assert (
        "took longer than" in found["slowpoke.test"]["error"]
        and found["slowpoke.test"]["status"] == "failed"
    )
    assert "503" in found["broken.test"]["error"]
    assert all(found[f"good{i}.test"]["status"] == "complete" for i in range(3))
    assert rows(sqlite_url, "select status, completed_domains, failed_domains from batch_jobs")[
        0
    ] == {"status": "partial", "completed_domains": 3, "failed_domains": 2}


def test_connection_refused_is_a_failed_job(tmp_path, web):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = scrapy_env(
        url, None, SCRAPERSKY_SCHEMES="http", http_proxy="http://127.0.0.1:9"
    )  # nothing listens on 9
    result = scrapy("crawl", "sitemap", "-a", "domain=refused.test", env=env)
    assert result.returncode == 1
    assert "refused" in rows(url, "select error from jobs")[0]["error"].lower()


def test_robots_txt_is_obeyed_for_pages_by_default(sqlite_url, web, crawl):
    site = web.site("polite.test")
    site.add(
        "/robots.txt", "User-agent: *\nDisallow: /private/\nSitemap: http://polite.test/s.xml\n"
    )
    site.add(
        "/s.xml",
        "<urlset><url><loc>http://polite.test/private/a</loc></url>"
        "<url><loc>http://polite.test/public/b</loc></url></urlset>",
    )
    site.add("/", "<html><head><title>Polite</title></head><body>x</body></html>")
    site.add("/public/b", "<html><head><title>Public</title></head><body>x</body></html>")
    site.add("/private/a", "<html><head><title>Private</title></head><body>x</body></html>")
    assert (
        crawl(
            sqlite_url, "-a", "domain=polite.test", "-a", "max_pages=5", SCRAPERSKY_SCHEMES="http"
        ).returncode
        == 0
    )
    assert not web.hits("polite.test", "/private/a")
    assert web.hits("polite.test", "/public/b")
    assert scalar(sqlite_url, "select count(*) from pages") == 2  # both still recorded as listed
    agent = web.hits("polite.test", "/robots.txt")[0].headers["user-agent"]
    assert agent.startswith("ScraperSky/") and "+http" in agent


@pytest.mark.parametrize(
    "name, value",
    [
        ("SCRAPERSKY_STALE_AFTER", "soon"),
        ("SCRAPERSKY_CONCURRENT_SCANS", "0"),
        ("SCRAPERSKY_ALLOW_PRIVATE_NETWORKS", "maybe"),
        ("SCRAPERSKY_SCHEMES", "ftp"),
        ("SCRAPERSKY_DEFAULT_TENANT", "tenant-one"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, name, value):
    # In this process; test_settings_checked runs the real commands with a bad setting.
    env = scrapy_env(f"sqlite:///{tmp_path / 'db.sqlite'}", **{name: value})
    for command in (["crawl", "sitemap", "-a", "domain=ok.test"], ["status"]):
        result = run_command(*command, env=env)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and name in lines[0], result.stderr[
            -2000:
        ]
