"""The foundation slice end to end: `scrapy crawl sitemap` against fixture sites, into both databases."""

from __future__ import annotations

import json

from tests.conftest import scrapy_env
from tests.support.db import rows, scalar
from tests.support.fixture_web import demo_site
from tests.support.in_process import run_command


def _urlset(urls: list[str]) -> str:
    body = "".join(
        f"<url><loc>{u}</loc><lastmod>2024-05-01</lastmod><priority>0.5</priority></url>"
        for u in urls
    )
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'


def test_scan_stores_domain_sitemaps_pages_and_a_complete_job(database_url, web, crawl):
    demo_site(web, "shop1.test")
    result = crawl(database_url, "-a", "domain=https://www.Shop1.test/")
    assert result.returncode == 0, result.stderr[-3000:]

    domain = rows(database_url, "select * from domains")
    assert [d["domain"] for d in domain] == ["shop1.test"]
    assert domain[0]["status"] == "complete"
    assert domain[0]["title"]
    stored_pages = scalar(database_url, "select count(*) from pages")
    assert stored_pages > 0 and domain[0]["sitemap_urls"] == stored_pages
    files = rows(database_url, "select * from sitemap_files order by id")
    assert files and {f["discovery_method"] for f in files} >= {"robots_txt", "sitemap_index"}
    assert all(f["status_code"] == 200 for f in files)
    assert scalar(database_url, "select count(*) from pages where sitemap_file_id is null") == 0
    job = rows(database_url, "select * from jobs")
    assert len(job) == 1 and job[0]["status"] == "complete" and job[0]["domain"] == "shop1.test"
    assert job[0]["domain_id"] == domain[0]["id"] and job[0]["progress"] == 1.0
    assert job[0]["finished_at"] is not None and job[0]["error"] is None
    # https is refused by the fixture proxy: the scan fell back to http.
    assert web.hits("shop1.test", "/robots.txt")
    # A plain scan warns of nothing (the components it leaves out leave no one complaining).
    assert "WARNING" not in result.stderr, result.stderr[-3000:]


def test_rescan_updates_in_place(database_url, web, crawl):
    site = web.site("shop2.test")
    site.add("/robots.txt", "User-agent: *\nSitemap: http://shop2.test/pages.xml\n")
    site.add("/pages.xml", _urlset([f"http://shop2.test/p{i}" for i in range(30)]))
    site.add("/", "<html><head><title>Shop two</title></head><body>hello</body></html>")
    assert crawl(database_url, "-a", "domain=shop2.test").returncode == 0
    first = rows(database_url, "select id, url from pages order by id")
    site.add("/pages.xml", _urlset([f"http://shop2.test/p{i}" for i in range(35)]))
    assert crawl(database_url, "-a", "domain=shop2.test").returncode == 0
    second = rows(database_url, "select id, url from pages order by id")
    assert second[: len(first)] == first  # same rows, same ids: updated in place
    assert len(second) == 35 == len({r["url"] for r in second})
    assert scalar(database_url, "select count(*) from domains") == 1
    assert scalar(database_url, "select count(*) from sitemap_files") == 1
    assert scalar(database_url, "select sitemap_urls from domains") == 35
    assert [r["status"] for r in rows(database_url, "select status from jobs order by id")] == [
        "complete"
    ] * 2


def test_unreachable_domain_leaves_a_failed_job_with_its_reason(database_url, web, crawl):
    result = crawl(database_url, "-a", "domain=nowhere.test")  # the proxy knows no such host: 502
    assert result.returncode == 1
    job = rows(database_url, "select status, error from jobs")
    assert job[0]["status"] == "failed"
    assert "502" in job[0]["error"]
    assert (
        scalar(database_url, "select status from domains where domain = 'nowhere.test'") == "failed"
    )


def test_invalid_domain_is_a_one_line_error(database_url):
    # Stopped before any crawl starts, so in this process (tests.support.in_process); a real
    # `scrapy crawl` stopped by bad input: test_settings_checked.py's
    # test_the_scrapy_executable_stops_each_command_in_one_line[crawl].
    result = run_command(
        "crawl", "sitemap", "-a", "domain=not a domain", env=scrapy_env(database_url)
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr
    assert scalar(database_url, "select count(*) from jobs where status = 'running'") == 0


def test_feed_exports_get_a_line_per_listed_url_and_per_domain(database_url, web, crawl, tmp_path):
    import csv
    import json

    site = web.site("feed.test")
    site.add("/robots.txt", "Sitemap: http://feed.test/a.xml\nSitemap: http://feed.test/b.xml\n")
    site.add("/a.xml", _urlset([f"http://feed.test/a{i}" for i in range(5)]))
    site.add("/b.xml", _urlset([f"http://feed.test/b{i}" for i in range(3)]))
    site.add("/", "<html><head><title>Feed shop</title></head><body>hi</body></html>")
    result = crawl(
        database_url,
        "-a",
        "domain=feed.test",
        "-s",
        "SCRAPERSKY_PAGE_CHUNK=2",
        "-O",
        str(tmp_path / "out.csv"),
        "-O",
        str(tmp_path / "out.jsonl"),
    )
    assert result.returncode == 0, result.stderr[-3000:]

    with open(tmp_path / "out.csv", newline="") as handle:
        lines = list(csv.DictReader(handle))
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    for exported in (lines, records):
        pages = [r for r in exported if r["type"] == "page"]
        assert sorted(r["url"] for r in pages) == sorted(
            [f"http://feed.test/a{i}" for i in range(5)]
            + [f"http://feed.test/b{i}" for i in range(3)]
        )
        assert {r["sitemap_url"] for r in pages} == {
            "http://feed.test/a.xml",
            "http://feed.test/b.xml",
        }
        assert all(
            str(r["priority"]) == "0.5" and str(r["lastmod"]).startswith("2024-05-01")
            for r in pages
        )
        domains = [r for r in exported if r["type"] == "domain"]
        assert (
            len(domains) == 1
            and domains[0]["title"] == "Feed shop"
            and domains[0]["status"] == "complete"
        )
    assert scalar(database_url, "select count(*) from pages") == 8  # stored as well


def test_sitemaps_served_without_validators_are_skipped_when_their_bytes_did_not_change(
    database_url, web, crawl
):
    from tests.support.fixture_web import Reply

    bodies = {
        "/a.xml": _urlset([f"http://plain.test/a{i}" for i in range(4)]),
        "/b.xml": _urlset([f"http://plain.test/b{i}" for i in range(3)]),
    }
    site = web.site("plain.test")
    site.add("/robots.txt", "Sitemap: http://plain.test/a.xml\nSitemap: http://plain.test/b.xml\n")
    site.add("/", "<html><head><title>Plain</title></head><body>hi</body></html>")
    for path in bodies:  # generated on every request: no ETag, no Last-Modified, never a 304
        site.handler(
            path,
            lambda request: Reply(200, bodies[request.path].encode(), {"Content-Type": "text/xml"}),
        )

    def scan() -> dict:
        result = crawl(database_url, "-a", "domain=plain.test")
        assert result.returncode == 0, result.stderr[-3000:]
        return rows(database_url, "select result_data from jobs order by id desc limit 1")[0][
            "result_data"
        ]

    assert scan()["sitemaps_unchanged"] == 0
    first = rows(database_url, "select id, url, lastmod from pages order by id")
    assert scan()["sitemaps_unchanged"] == 2  # fetched (200), recognised, not read again
    assert rows(database_url, "select id, url, lastmod from pages order by id") == first
    assert scalar(database_url, "select sitemap_urls from domains") == 7
    assert [
        r["status_code"] for r in rows(database_url, "select status_code from sitemap_files")
    ] == [200, 200]

    bodies["/b.xml"] = _urlset([f"http://plain.test/b{i}" for i in range(5)])
    assert scan()["sitemaps_unchanged"] == 1
    assert scalar(database_url, "select count(*) from pages") == 9
    assert len(web.hits("plain.test", "/b.xml")) == 3  # fetched by every scan: only the bytes tell


def test_an_unchanged_rescan_counts_listed_urls_not_the_sitemaps_an_index_lists(
    database_url, web, crawl
):
    site = web.site("indexed.test")
    site.add("/robots.txt", "Sitemap: http://indexed.test/index.xml\n")
    site.add("/", "<html><head><title>Indexed</title></head><body>hi</body></html>")
    site.add(
        "/index.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>http://indexed.test/a.xml</loc></sitemap>"
        "<sitemap><loc>http://indexed.test/b.xml</loc></sitemap></sitemapindex>",
    )
    site.add("/a.xml", _urlset([f"http://indexed.test/a{i}" for i in range(4)]))
    site.add("/b.xml", _urlset([f"http://indexed.test/b{i}" for i in range(3)]))
    for _ in range(2):  # the second scan finds all three unchanged (304)
        assert crawl(database_url, "-a", "domain=indexed.test").returncode == 0
    results = [
        r["result_data"] for r in rows(database_url, "select result_data from jobs order by id")
    ]
    assert [r["sitemaps_unchanged"] for r in results] == [0, 3]
    assert [r["urls_listed"] for r in results] == [7, 7]


def test_discovery_requests_per_step_are_in_the_result_and_scrapy_status_json(
    sqlite_url, web, crawl
):
    """The demo site declares its index in robots.txt: robots.txt, the homepage, the index, its
    two urlsets and two guesses (the most common paths robots.txt does not name), nothing more."""
    demo_site(web, "shop5.test")
    result = crawl(sqlite_url, "-a", "domain=shop5.test", SCRAPERSKY_SCHEMES="http")
    assert result.returncode == 0, result.stderr[-3000:]
    steps = {
        "robots": 1,
        "homepage": 1,
        "declared": 1,
        "index_children": 2,
        "guesses": 2,
        "total": 7,
    }
    [job] = rows(sqlite_url, "select job_id, result_data from jobs")
    assert job["result_data"]["discovery_requests"] == steps
    assert job["result_data"]["guess_rounds"] == 1
    assert len(web.hits("shop5.test")) == 7  # what the site saw: the same seven
    shown = run_command("status", job["job_id"], "--json", env=scrapy_env(sqlite_url))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["job"]["result_data"]["discovery_requests"] == steps


def test_a_crawl_log_shows_no_password_of_a_url_it_names(sqlite_url, web, crawl):
    """Scrapy replaces its log handler when the crawler is made: the redaction goes on the one
    the crawl logs through."""
    site = demo_site(web, "secret1.test")
    site.add(
        "/robots.txt",
        "User-agent: *\nSitemap: http://reader:s3cret-word@secret1.test/private.xml\n",
    )
    result = crawl(sqlite_url, "-a", "domain=secret1.test", LOG_LEVEL="DEBUG")
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert "reader:***@secret1.test/private.xml" in result.stderr
    assert "s3cret-word" not in result.stderr
