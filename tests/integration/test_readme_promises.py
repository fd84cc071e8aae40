"""README promises that had no test of their own, each through real `scrapy` processes on both
databases: the stored domain and sitemap-file columns, `scrapy migrate`, `status --limit`, the
reaper in the next run, SCRAPERSKY_MAX_ATTEMPTS, and a run that ends early. Commands that only
read an answer back after the first real one run inside the test process
(tests.support.in_process)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

import scrapersky
from scrapersky.db import jobs
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.db.models import Job
from scrapersky.db.schema import current_revision, head_revision
from tests.conftest import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
    scrapy,
    scrapy_env,
)
from tests.integration.test_lifecycle import TENANT, small_site
from tests.support.db import rows, scalar
from tests.support.fixture_web import demo_site
from tests.support.in_process import run_command

WORDPRESS_HOME = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Columns Co – Garden Furniture</title>
<meta name="description" content="Teak benches and tables made in Devon.">
<meta name="generator" content="WordPress 6.4.2">
<link rel="stylesheet" href="/wp-content/plugins/elementor/assets/css/frontend.min.css">
<link rel="icon" href="/wp-content/uploads/icon-32.png" sizes="32x32">
<script type="rocketlazyloadscript" data-rocket-src="/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js" defer></script>
<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Organization", "name": "Columns Co",
 "url": "http://cols.test/", "logo": "http://cols.test/wp-content/uploads/logo.png"}
</script>
</head>
<body class="elementor-page">
<header><a href="/" class="custom-logo-link"><img class="custom-logo" src="/wp-content/uploads/logo.png" alt="Columns Co"></a></header>
<main><h1>Garden furniture</h1><p>Made to last in oiled teak.</p></main>
<footer>
<a href="https://twitter.com/columnsco">Twitter</a>
<a href="https://www.linkedin.com/company/columns-co">LinkedIn</a>
<a href="https://www.youtube.com/@columnsco">YouTube</a>
<a href="https://www.tiktok.com/@columnsco">TikTok</a>
<a href="mailto:sales@columnsco.co.uk">sales@columnsco.co.uk</a>
<table class="contact"><tr><td>Telephone:</td><td>0161 4960123</td></tr><tr><td>Company no.</td><td>0161 4960999</td></tr></table>
</footer>
</body>
</html>
"""


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_domain_row_keeps_every_extracted_column(database_url, web, crawl):
    web.site("cols.test").add("/", WORDPRESS_HOME, content_type="text/html; charset=utf-8")
    result = crawl(database_url, "-a", "domain=cols.test", "-a", "render=never")
    assert result.returncode == 0, result.stderr[-3000:]
    domain = rows(database_url, "select * from domains")[0]
    assert domain["title"] == "Columns Co – Garden Furniture"
    assert domain["language"] == "en-GB"  # the region as the page writes it
    assert domain["favicon_url"] == "http://cols.test/wp-content/uploads/icon-32.png"
    assert domain["logo_url"] == "http://cols.test/wp-content/uploads/logo.png"
    assert domain["is_wordpress"] is True or domain["is_wordpress"] == 1
    assert domain["wordpress_version"] == "6.4.2"
    assert domain["has_elementor"] is True or domain["has_elementor"] == 1
    assert (
        "WordPress" in domain["tech_stack"]["cms"]
        and "Elementor" in domain["tech_stack"]["plugins"]
        and "jQuery" in domain["tech_stack"]["frameworks"]  # a script WP Rocket delays
    )
    assert domain["domain_metadata"]["tech_versions"] == {"jQuery": "3.7.1"}
    assert domain["structured_data"]["json-ld"] == [
        {
            "@context": "https://schema.org",
            "@type": "Organization",
            "name": "Columns Co",
            "url": "http://cols.test/",
            "logo": "http://cols.test/wp-content/uploads/logo.png",
        }
    ]
    assert domain["twitter_url"] == "https://twitter.com/columnsco"
    assert domain["linkedin_url"] == "https://linkedin.com/company/columns-co"
    assert domain["youtube_url"] == "https://youtube.com/@columnsco"
    assert domain["tiktok_url"] == "https://tiktok.com/@columnsco"
    assert domain["facebook_url"] is None and domain["instagram_url"] is None
    assert domain["email_addresses"] == ["sales@columnsco.co.uk"]
    # labelled in the cell before it; the company number beside no phone label is not a phone
    assert domain["phone_numbers"] == ["+441614960123"]


def test_sitemap_file_rows_record_their_size_and_fetch_time(database_url, web, crawl):
    site = demo_site(web, "sizes.test")
    before = datetime.now(UTC)
    assert crawl(database_url, "-a", "domain=sizes.test").returncode == 0
    after = datetime.now(UTC)
    stored = {
        r["url"]: r
        for r in rows(
            database_url, "select url, size_bytes, is_gzipped, fetched_at from sitemap_files"
        )
    }
    served = {
        f"http://sizes.test{path}": site.route(path).reply.body
        for path in ("/sitemap_index.xml", "/sitemap-products.xml", "/sitemap-pages.xml.gz")
    }
    assert set(stored) == set(served)
    for url, body in served.items():
        assert stored[url]["size_bytes"] == len(body), (
            url
        )  # bytes as transferred (gzip still packed)
        assert before <= _utc(stored[url]["fetched_at"]) <= after, url
    assert [u for u, r in stored.items() if r["is_gzipped"]] == [
        "http://sizes.test/sitemap-pages.xml.gz"
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request, tmp_path):
    """A database that exists but has no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    require_postgres()
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


def test_migrate_command_brings_the_schema_up_to_date(empty_database_url, tmp_path):
    env = scrapy_env(empty_database_url)
    head = head_revision(empty_database_url)
    first = scrapy("migrate", env=env)  # the real executable; the other `migrate`s run in-process
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"database schema upgraded: empty -> {head}"
    assert current_revision(empty_database_url) == head
    assert scalar(empty_database_url, "select count(*) from jobs") == 0
    again = run_command("migrate", env=env)
    assert (again.returncode, again.stdout.strip()) == (0, f"database schema is current ({head})")


def test_postgres_run_asks_for_migrate_then_works_after_it(postgres_server, web):
    """PostgreSQL is shared by many nodes and only migrated on purpose (SQLite migrates itself)."""
    require_postgres()
    url = create_postgres_database()
    try:
        small_site(web, "migrate.test")
        env = scrapy_env(url, web, SCRAPERSKY_SCHEMES="http")
        refused = scrapy("crawl", "sitemap", "-a", "domain=migrate.test", env=env)
        assert refused.returncode == 5  # the database is not usable yet
        assert refused.stderr.strip().splitlines()[-1].endswith("run `scrapy migrate`")
        assert scrapy("migrate", env=env).returncode == 0
        done = scrapy("crawl", "sitemap", "-a", "domain=migrate.test", env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert scalar(url, "select status from jobs") == "complete"
    finally:
        drop_postgres_database(url)


def test_migrate_bad_or_unreachable_database_is_one_line(tmp_path):
    # In this process (tests.support.in_process); real `scrapy migrate` processes run above.
    bad = run_command("migrate", env=scrapy_env("nosuchdb://x"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1
    unreachable = run_command(
        "migrate", env=scrapy_env("postgresql+psycopg2://postgres@127.0.0.1:9/none")
    )
    assert unreachable.returncode == 5 and unreachable.stderr.startswith(
        "error: migration failed: "
    )
    assert unreachable.stderr.count("\n") == 1 and "Traceback" not in unreachable.stderr


def test_status_limit_lists_only_the_latest(database_url, web):
    hosts = ["l1.test", "l2.test", "l3.test"]
    for host in hosts:
        small_site(web, host)
    env = scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http")
    assert scrapy("crawl", "sitemap", "-a", "domains=" + ",".join(hosts), env=env).returncode == 0
    for n in (1, 2):
        in_transaction(database_url, jobs.create_batch, TENANT, [f"batch{n}.test"], {})
    newest = rows(database_url, "select job_id, domain from jobs order by id desc")
    # `scrapy status` in this process (tests.support.in_process); the real executable is run by
    # test_lifecycle.py::test_sigkill_mid_scan_is_failed_by_the_next_look.
    shown = run_command("status", "--limit", "2", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)
    assert [j["job_id"] for j in listed["jobs"]] == [j["job_id"] for j in newest[:2]]
    assert len(listed["batches"]) == 2
    table = run_command("status", "--limit", "1", env=env)
    assert table.returncode == 0 and newest[0]["domain"] in table.stdout
    assert not any(j["domain"] in table.stdout for j in newest[1:])


def _make_stale(database_url: str, job_pk: int, attempts: int | None = None) -> None:
    """What a run that died mid-scan leaves behind: a running job whose heartbeat stopped an hour ago."""
    values = {"heartbeat_at": jobs.now() - timedelta(hours=1)}
    if attempts is not None:
        values["attempts"] = attempts
    with session_scope(database_url) as session:
        session.execute(update(Job).where(Job.id == job_pk).values(**values))


def test_next_run_reaps_dead_jobs_on_its_own_within_max_attempts(database_url, web):
    batch = in_transaction(
        database_url, jobs.create_batch, TENANT, ["retry.test", "spent.test", "waiting.test"], {}
    )
    [retry] = in_transaction(database_url, jobs.claim_jobs, run_id="dead-run-1", batch_id=batch.id)
    [spent] = in_transaction(database_url, jobs.claim_jobs, run_id="dead-run-2", batch_id=batch.id)
    lone = in_transaction(
        database_url, jobs.add_jobs, TENANT, ["lone.test"], run_id="dead-run-3", options={}
    )[0]
    in_transaction(database_url, jobs.claim_jobs, run_id="dead-run-3", job_ids=[lone.id])
    _make_stale(database_url, retry.id)
    _make_stale(database_url, spent.id, attempts=2)
    _make_stale(database_url, lone.id)
    for host in ("next.test", "retry.test", "spent.test", "waiting.test"):
        small_site(web, host)
    env = scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http", SCRAPERSKY_MAX_ATTEMPTS="2")
    # An unrelated run, and nobody calls `scrapy status`: the run itself looks for dead jobs.
    result = scrapy("crawl", "sitemap", "-a", "domain=next.test", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    found = {
        r["domain"]: r
        for r in rows(database_url, "select domain, status, error, attempts, run_id from jobs")
    }
    assert found["next.test"]["status"] == "complete"
    assert (found["retry.test"]["status"], found["retry.test"]["run_id"]) == ("pending", None)
    assert found["retry.test"]["error"] == "requeued after attempt 1: stale: process died"
    assert (found["spent.test"]["status"], found["spent.test"]["error"]) == (
        "failed",
        "stale: process died",
    )
    assert (found["lone.test"]["status"], found["lone.test"]["error"]) == (
        "failed",
        "stale: process died",
    )
    assert (found["waiting.test"]["status"], found["waiting.test"]["attempts"]) == ("pending", 0)
    counted = rows(
        database_url, "select status, completed_domains, failed_domains from batch_jobs"
    )[0]
    assert counted == {"status": "running", "completed_domains": 0, "failed_domains": 1}
    # The batch goes on: the requeued job is tried a second time, the spent one stays failed.
    resumed = scrapy("crawl", "sitemap", "-a", f"batch_id={batch.batch_id}", env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    found = {
        r["domain"]: r for r in rows(database_url, "select domain, status, attempts from jobs")
    }
    assert (found["retry.test"]["status"], found["retry.test"]["attempts"]) == ("complete", 2)
    assert (found["spent.test"]["status"], found["spent.test"]["attempts"]) == ("failed", 2)
    assert found["waiting.test"]["status"] == "complete"
    assert rows(database_url, "select status, completed_domains, failed_domains from batch_jobs")[
        0
    ] == {"status": "partial", "completed_domains": 2, "failed_domains": 1}


def test_run_ending_early_marks_its_jobs_failed(database_url, web):
    """Not a graceful shutdown (that is `cancelled`): here Scrapy's CloseSpider ends the run."""
    small_site(web, "early.test", delay=60)
    small_site(web, "later.test")
    env = scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http", SCRAPERSKY_CONCURRENT_SCANS="1")
    result = scrapy(
        "crawl",
        "sitemap",
        "-a",
        "domains=early.test,later.test",
        "-s",
        "CLOSESPIDER_TIMEOUT=3",
        # Scrapy waits for the request in flight up to DOWNLOAD_TIMEOUT before the run ends.
        "-s",
        "DOWNLOAD_TIMEOUT=4",
        env=env,
    )
    assert result.returncode == 1
    found = {
        r["domain"]: r
        for r in rows(database_url, "select domain, status, error, finished_at from jobs")
    }
    for domain in (
        "early.test",
        "later.test",
    ):  # the one scanning and the one still waiting its turn
        assert found[domain]["status"] == "failed", found
        assert found[domain]["error"] == "run ended (closespider_timeout) before the scan finished"
        assert found[domain]["finished_at"] is not None
    assert scalar(database_url, "select count(*) from jobs where status = 'running'") == 0


def test_render_always_renders_a_page_auto_would_keep_static(chromium, database_url, web, crawl):
    site = web.site("always.test")
    site.add(
        "/",
        '<html><head><title>Static title</title><script src="/app.js"></script></head>'
        "<body><p>Plenty of visible text already.</p></body></html>",
    )
    site.add("/app.js", "document.title = 'Rendered title';", content_type="application/javascript")
    auto = crawl(database_url, "-a", "domain=always.test")
    assert auto.returncode == 0, auto.stderr[-3000:]
    domain = rows(database_url, "select title, domain_metadata from domains")[0]
    assert (domain["title"], domain["domain_metadata"]["rendered"]) == ("Static title", False)
    assert not web.hits("always.test", "/app.js")
    always = crawl(database_url, "-a", "domain=always.test", "-a", "render=always", timeout=180)
    assert always.returncode == 0, always.stderr[-3000:]
    domain = rows(database_url, "select title, domain_metadata from domains")[0]
    assert (domain["title"], domain["domain_metadata"]["rendered"]) == ("Rendered title", True)
    assert web.hits("always.test", "/app.js")


def test_default_tenant_and_contact_url_come_from_the_environment(database_url, web):
    other_tenant, contact = "6f1c2a8e-0000-4000-8000-0000000000aa", "https://ops.example/scanner"
    small_site(web, "owner.test")
    env = scrapy_env(
        database_url,
        web,
        SCRAPERSKY_SCHEMES="http",
        SCRAPERSKY_DEFAULT_TENANT=other_tenant,
        SCRAPERSKY_CONTACT_URL=contact,
    )
    result = scrapy("crawl", "sitemap", "-a", "domain=owner.test", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert rows(database_url, "select tenant_id from domains") == [{"tenant_id": other_tenant}]
    assert rows(database_url, "select tenant_id from jobs") == [{"tenant_id": other_tenant}]
    agents = {r.headers["user-agent"] for r in web.hits("owner.test")}
    assert agents == {f"ScraperSky/{scrapersky.__version__} (+{contact})"}
