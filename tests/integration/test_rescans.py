"""Rescans through the real spider: the inventory stays true, and scan_changes says what changed."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from tests.conftest import scrapy_env, start_scrapy
from tests.support.db import rows, scalar
from tests.support.fixture_web import Reply
from tests.support.sitemap_sites import NS

SETTINGS = ("-s", "SCRAPERSKY_SCHEMES=http")


def urlset(host: str, entries: dict[str, str | None]) -> str:
    """A urlset of path → lastmod (or None)."""
    body = "".join(
        f"<url><loc>http://{host}/{path}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"
        for path, lastmod in entries.items()
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{body}</urlset>'


def site_with(web, host: str, sitemaps: dict[str, str], home: str | None = None):
    site = web.site(host)
    site.add("/robots.txt", "".join(f"Sitemap: http://{host}/{name}\n" for name in sitemaps))
    site.add(
        "/", home or f"<html><head><title>{host}</title></head><body><p>{host}</p></body></html>"
    )
    for name, body in sitemaps.items():
        site.add(f"/{name}", body)
    return site


def when(value) -> datetime:
    """A stored timestamp (SQLite: text, PostgreSQL: datetime) or a JSON one, as an aware UTC datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def pages(url: str, host: str) -> dict[str, dict]:
    found = rows(
        url,
        "select p.* from pages p join domains d on d.id = p.domain_id where d.domain = :d",
        d=host,
    )
    return {row["url"].rsplit("/", 1)[1]: row for row in found}


def domain(url: str, host: str) -> dict:
    return rows(url, "select * from domains where domain = :d", d=host)[0]


def changes(url: str, host: str) -> list[list[dict]]:
    """The scan_changes rows of each of the domain's jobs, in job order."""
    jobs = rows(url, "select id from jobs where domain = :d order by id", d=host)
    return [
        rows(
            url, "select * from scan_changes where job_id = :j order by kind, subject", j=job["id"]
        )
        for job in jobs
    ]


def kinds(found: list[dict]) -> list[tuple[str, str]]:
    return sorted((row["kind"], row["subject"].rsplit("/", 1)[-1]) for row in found)


def scan(crawl, database_url: str, host: str, *extra: str):
    result = crawl(database_url, "-a", f"domain={host}", *SETTINGS, *extra)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return result


def test_a_rotating_sitemap_over_four_scans(database_url, web, crawl, tmp_path):
    host = "rotation.test"
    first = {f"a{i}": f"2024-01-0{i + 1}" for i in range(10)}
    site = site_with(web, host, {"s.xml": urlset(host, first)})
    assert scan(crawl, database_url, host).returncode == 0
    [baseline] = changes(database_url, host)
    assert [(c["kind"], c["old"], c["new"]) for c in baseline] == [
        ("first_scan", None, {"pages": 10, "sitemaps": 1})
    ]
    s1 = baseline[0]["changed_at"]
    stored = pages(database_url, host)
    assert len(stored) == 10 and domain(database_url, host)["sitemap_urls"] == 10
    assert all(
        p["first_seen_at"] == p["last_seen_at"] == s1 and p["removed_at"] is None
        for p in stored.values()
    )

    # Five URLs leave, one arrives.
    second = {**{f"a{i}": first[f"a{i}"] for i in range(5)}, "new1": "2024-02-01"}
    site.add("/s.xml", urlset(host, second))
    assert scan(crawl, database_url, host, "-O", str(tmp_path / "second.jsonl")).returncode == 0
    exported = [json.loads(line) for line in (tmp_path / "second.jsonl").read_text().splitlines()]
    assert sorted(
        line["url"].rsplit("/", 1)[1] for line in exported if line["type"] == "page"
    ) == sorted(second)  # the feed export lists what the sitemap lists now...
    assert [line["sitemap_urls"] for line in exported if line["type"] == "domain"] == [
        6
    ]  # ...and counts it
    history = changes(database_url, host)[1]
    assert kinds(history) == [("page_added", "new1")] + [
        ("page_removed", f"a{i}") for i in range(5, 10)
    ] + [("sitemap_changed", "s.xml")]
    s2 = history[0]["changed_at"]
    assert when(s2) > when(s1) and {c["changed_at"] for c in history} == {s2}
    added = next(c for c in history if c["kind"] == "page_added")
    assert added["old"] is None and added["new"] == {"lastmod": "2024-02-01T00:00:00+00:00"}
    sitemap = next(c for c in history if c["kind"] == "sitemap_changed")
    assert sitemap["old"]["url_count"] == 10 and sitemap["new"]["url_count"] == 6
    stored = pages(database_url, host)
    assert len(stored) == 11 and domain(database_url, host)["sitemap_urls"] == 6
    assert {name for name, p in stored.items() if p["removed_at"] is not None} == {
        f"a{i}" for i in range(5, 10)
    }
    assert all(
        stored[f"a{i}"]["removed_at"] == s2 and stored[f"a{i}"]["last_seen_at"] == s1
        for i in range(5, 10)
    )
    assert stored["new1"]["first_seen_at"] == stored["new1"]["last_seen_at"] == s2

    # a7 comes back, a0 gets a new lastmod.
    third = {**second, "a0": "2025-01-01", "a7": first["a7"]}
    site.add("/s.xml", urlset(host, third))
    assert scan(crawl, database_url, host).returncode == 0
    history = changes(database_url, host)[2]
    assert kinds(history) == [
        ("page_added", "a7"),
        ("page_changed", "a0"),
        ("sitemap_changed", "s.xml"),
    ]
    s3 = history[0]["changed_at"]
    back = next(c for c in history if c["kind"] == "page_added")
    assert when(back["old"]["removed_at"]) == when(s2) and back["new"] == {
        "lastmod": "2024-01-08T00:00:00+00:00"
    }
    moved = next(c for c in history if c["kind"] == "page_changed")
    assert moved["old"] == {"lastmod": "2024-01-01T00:00:00+00:00"}
    assert moved["new"] == {"lastmod": "2025-01-01T00:00:00+00:00"}
    stored = pages(database_url, host)
    assert len(stored) == 11 and domain(database_url, host)["sitemap_urls"] == 7
    assert stored["a7"]["removed_at"] is None and stored["a7"]["first_seen_at"] == s1
    assert stored["a7"]["last_seen_at"] == stored["a0"]["last_seen_at"] == s3
    assert all(
        stored[f"a{i}"]["last_seen_at"] == s1 for i in range(1, 5)
    )  # unchanged rows are not rewritten...
    confirmed = scalar(
        database_url,
        "select confirmed_at from sitemap_files where url = :u",
        u=f"http://{host}/s.xml",
    )
    assert confirmed == s3  # ...their sitemap says they were seen

    # Nothing changes: the sitemap answers 304, no page row is written, nothing is recorded.
    result = scan(crawl, database_url, host)
    assert result.returncode == 0
    assert changes(database_url, host)[3] == []
    assert pages(database_url, host) == stored
    stats = rows(database_url, "select stats from jobs order by id desc")[0]["stats"]
    assert stats["downloader/response_status_count/304"] == 1
    assert stats.get("scrapersky/store/page_rows_changed", 0) == 0
    confirmed_again = scalar(
        database_url,
        "select confirmed_at from sitemap_files where url = :u",
        u=f"http://{host}/s.xml",
    )
    assert when(confirmed_again) > when(s3)


def test_a_failing_sitemap_keeps_its_pages_while_the_others_lose_theirs(database_url, web, crawl):
    host = "three.test"
    maps = {f"{name}.xml": {f"{name}{i}": None for i in range(3)} for name in ("x", "y", "z")}
    site = site_with(web, host, {name: urlset(host, entries) for name, entries in maps.items()})
    assert scan(crawl, database_url, host).returncode == 0
    before = pages(database_url, host)
    assert len(before) == 9

    site.add("/x.xml", urlset(host, {"x0": None, "x1": None}))
    site.add("/y.xml", "unavailable", status=500)  # its y2 would be gone too; it cannot say so
    site.add("/z.xml", urlset(host, {"z0": None, "z1": None, "z3": None}))
    scan(crawl, database_url, host)
    history = changes(database_url, host)[1]
    assert kinds(history) == [
        ("page_added", "z3"),
        ("page_removed", "x2"),
        ("page_removed", "z2"),
        ("sitemap_changed", "x.xml"),
        ("sitemap_changed", "y.xml"),
        ("sitemap_changed", "z.xml"),
    ]
    failed = next(c for c in history if c["subject"].endswith("y.xml"))
    assert failed["new"]["status_code"] == 500 and failed["new"]["error_message"] == "HTTP 500"
    after = pages(database_url, host)
    assert {name: after[name] for name in ("y0", "y1", "y2")} == {
        name: before[name] for name in ("y0", "y1", "y2")
    }
    assert {name for name, p in after.items() if p["removed_at"]} == {"x2", "z2"}
    assert domain(database_url, host)["sitemap_urls"] == 8
    assert (
        scalar(database_url, "select count(*) from sitemap_files where removed_at is not null") == 0
    )


def test_a_sitemap_no_longer_published_is_removed_with_its_pages(database_url, web, crawl):
    host = "dropped.test"
    site = site_with(
        web,
        host,
        {"keep.xml": urlset(host, {"k0": None}), "old.xml": urlset(host, {"o0": None, "o1": None})},
    )
    assert scan(crawl, database_url, host).returncode == 0
    site.add("/robots.txt", f"Sitemap: http://{host}/keep.xml\n")
    assert scan(crawl, database_url, host).returncode == 0
    assert kinds(changes(database_url, host)[1]) == [
        ("page_removed", "o0"),
        ("page_removed", "o1"),
        ("sitemap_removed", "old.xml"),
    ]
    assert (
        domain(database_url, host)["sitemap_urls"] == 1
        and domain(database_url, host)["total_sitemaps"] == 1
    )
    # Published again: the sitemap and its pages are back.
    site.add("/robots.txt", f"Sitemap: http://{host}/keep.xml\nSitemap: http://{host}/old.xml\n")
    assert scan(crawl, database_url, host).returncode == 0
    assert kinds(changes(database_url, host)[2]) == [
        ("page_added", "o0"),
        ("page_added", "o1"),
        ("sitemap_added", "old.xml"),
    ]
    assert domain(database_url, host)["sitemap_urls"] == 3


WORDPRESS_HOME = """<!DOCTYPE html><html lang="en"><head><title>Studio Nine</title>
<meta name="generator" content="WordPress 6.4.2">
<link rel="stylesheet" href="/wp-content/plugins/elementor/assets/css/frontend.min.css">
<meta name="description" content="Pottery classes in Portland."></head>
<body class="elementor-default"><div class="elementor elementor-12"><h1>Studio Nine</h1>
<p>Mail <a href="mailto:hello@studionine.com">hello@studionine.com</a> or
<a href="mailto:classes@studionine.com">classes@studionine.com</a>, call <a href="tel:+15035550199">503 555 0199</a>.</p>
<a href="https://www.facebook.com/studionine">Facebook</a></div></body></html>"""

METADATA_COLUMNS = (
    "title",
    "description",
    "language",
    "is_wordpress",
    "wordpress_version",
    "has_elementor",
    "tech_stack",
    "email_addresses",
    "phone_numbers",
    "facebook_url",
    "domain_metadata",
    "metadata_at",
)


def test_a_rescan_that_cannot_read_the_homepage_keeps_the_metadata(database_url, web, crawl):
    host = "studio.test"
    site = site_with(web, host, {"s.xml": urlset(host, {"p0": None})}, home=WORDPRESS_HOME)
    assert scan(crawl, database_url, host).returncode == 0
    first = domain(database_url, host)
    assert (
        first["is_wordpress"] and first["has_elementor"] and first["wordpress_version"] == "6.4.2"
    )
    assert len(first["email_addresses"]) == 2 and len(first["phone_numbers"]) == 1
    assert first["metadata_at"] is not None

    site.add("/", "down for maintenance", status=503)
    assert scan(crawl, database_url, host).returncode == 1  # the scan failed...
    second = domain(database_url, host)
    assert {c: second[c] for c in METADATA_COLUMNS} == {
        c: first[c] for c in METADATA_COLUMNS
    }  # ...nothing mixed
    assert second["status"] == "failed" and "homepage: HTTP 503" in second["last_error"]
    assert when(second["last_scan"]) > when(first["last_scan"])
    assert changes(database_url, host)[1] == []

    # Read again, with a new title and one address fewer: replaced whole, and recorded field by field.
    site.add(
        "/",
        WORDPRESS_HOME.replace("<title>Studio Nine", "<title>Studio Nine Ceramics").replace(
            'or\n<a href="mailto:classes@studionine.com">classes@studionine.com</a>', ""
        ),
    )
    assert scan(crawl, database_url, host).returncode == 0
    third = domain(database_url, host)
    assert third["title"] == "Studio Nine Ceramics" and third["email_addresses"] == [
        "hello@studionine.com"
    ]
    assert third["status"] == "complete" and third["last_error"] is None
    assert when(third["metadata_at"]) > when(first["metadata_at"])
    history = changes(database_url, host)[2]
    assert kinds(history) == [
        ("metadata_changed", "email_addresses"),
        ("metadata_changed", "title"),
    ]
    title = next(c for c in history if c["subject"] == "title")
    assert title["old"] == {"title": "Studio Nine"} and title["new"] == {
        "title": "Studio Nine Ceramics"
    }


def test_two_rescans_of_one_domain_at_once_record_each_change_once(
    database_url, web, crawl, tmp_path
):
    host = "twice.test"
    site = site_with(
        web, host, {"s.xml": urlset(host, {f"p{i}": "2024-01-01" for i in range(200)})}
    )
    assert scan(crawl, database_url, host).returncode == 0
    changed = {f"p{i}": "2024-01-01" for i in range(20, 200)} | {f"n{i}": None for i in range(30)}
    changed |= {f"p{i}": "2024-06-01" for i in range(20, 40)}
    # Each rescan's sitemap request is held until the other rescan has asked for it too: both
    # are then in flight at once, however the two processes are scheduled.
    body = urlset(host, changed).encode()
    lock, both_asked, asked, answered_together = threading.Lock(), threading.Event(), [], []

    def held_until_both_ask(request):
        with lock:
            asked.append(request.time)
            if len(asked) == 2:
                both_asked.set()
        answered_together.append(both_asked.wait(timeout=90))
        return Reply(200, body, {"Content-Type": "application/xml"})

    site.handler("/s.xml", held_until_both_ask)
    # A download may wait longer than the hold: the hold, not a timeout, decides.
    env = scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http", DOWNLOAD_TIMEOUT="150")
    runs = [
        start_scrapy(
            "crawl", "sitemap", "-a", f"domain={host}", env=env, log=tmp_path / f"run{n}.log"
        )
        for n in range(2)
    ]
    for n, run in enumerate(runs):
        assert run.wait(timeout=180) == 0, (tmp_path / f"run{n}.log").read_text()[-3000:]
    assert len(asked) == 2 and answered_together == [True, True]
    # The jobs table agrees: each rescan started before the other finished.
    first, second = rows(database_url, "select started_at, finished_at from jobs order by id")[1:]
    assert when(first["started_at"]) < when(second["finished_at"])
    assert when(second["started_at"]) < when(first["finished_at"])
    found = rows(database_url, "select kind, subject from scan_changes where kind like 'page_%'")
    subjects = [(row["kind"], row["subject"].rsplit("/", 1)[1]) for row in found]
    assert len(subjects) == len(set(subjects))  # nothing twice...
    assert sorted(subjects) == sorted(
        [("page_added", f"n{i}") for i in range(30)]
        + [("page_removed", f"p{i}") for i in range(20)]
        + [("page_changed", f"p{i}") for i in range(20, 40)]
    )  # ...nothing lost
    stored = pages(database_url, host)
    assert len(stored) == 230 and domain(database_url, host)["sitemap_urls"] == 210
    assert {name for name, p in stored.items() if p["removed_at"]} == {f"p{i}" for i in range(20)}


def diffed(database_url: str) -> int:
    """How many sitemaps the domain's last scan read by a diff with their kept readings."""
    stats = rows(database_url, "select stats from jobs order by id desc")[0]["stats"]
    return stats.get("scrapersky/sitemaps/diffed", 0)


def test_changed_urlsets_are_read_by_a_diff_and_the_history_stays_exact(database_url, web, crawl):
    host = "diffed.test"
    one = {f"a{i}": "2024-01-01" for i in range(6)}
    two = {f"b{i}": "2024-01-01" for i in range(4)}
    site = site_with(web, host, {"one.xml": urlset(host, one), "two.xml": urlset(host, two)})
    assert scan(crawl, database_url, host).returncode == 0
    assert diffed(database_url) == 0
    kept = scalar(database_url, "select count(*) from sitemap_files where listing is not null")
    assert kept == 2

    # a0 moves from one.xml to two.xml, a1 gets a new lastmod, a2 leaves, n1 arrives.
    one2 = {**{k: v for k, v in one.items() if k not in ("a0", "a2")}, "a1": "2025-01-01"}
    one2["n1"] = None
    two2 = {**two, "a0": "2024-01-01"}
    site.add("/one.xml", urlset(host, one2))
    site.add("/two.xml", urlset(host, two2))
    assert scan(crawl, database_url, host).returncode == 0
    assert diffed(database_url) == 2
    history = changes(database_url, host)[1]
    assert kinds(history) == [
        ("page_added", "n1"),
        ("page_changed", "a1"),
        ("page_removed", "a2"),
        ("sitemap_changed", "one.xml"),
        ("sitemap_changed", "two.xml"),
    ]
    stored = pages(database_url, host)
    assert {name for name, p in stored.items() if p["removed_at"]} == {"a2"}
    assert domain(database_url, host)["sitemap_urls"] == 10
    two_id = scalar(database_url, "select id from sitemap_files where url like '%two.xml'")
    assert stored["a0"]["sitemap_file_id"] == two_id
    counts = {
        r["url"].rsplit("/", 1)[1]: r["url_count"]
        for r in rows(database_url, "select url, url_count from sitemap_files")
    }
    assert counts == {"one.xml": 5, "two.xml": 5}

    # A comment in two.xml: read in full (b3 leaves); one.xml is diffed again (a3 leaves).
    site.add(
        "/two.xml",
        urlset(host, {k: v for k, v in two2.items() if k != "b3"}).replace(
            "<url>", "<!-- generated --><url>", 1
        ),
    )
    site.add("/one.xml", urlset(host, {k: v for k, v in one2.items() if k != "a3"}))
    assert scan(crawl, database_url, host).returncode == 0
    assert diffed(database_url) == 1
    assert kinds(changes(database_url, host)[2]) == [
        ("page_removed", "a3"),
        ("page_removed", "b3"),
        ("sitemap_changed", "one.xml"),
        ("sitemap_changed", "two.xml"),
    ]
    assert domain(database_url, host)["sitemap_urls"] == 8

    # An entry the store drops (a URL over the length cap) leaves one.xml's pages short of its
    # count: the diff that lists it still answers, the next scan reads one.xml in full.
    long_url = "x" * 3000
    one3 = {**{k: v for k, v in one2.items() if k != "a3"}, "a1": "2026-01-01", long_url: None}
    site.add("/one.xml", urlset(host, one3))
    assert scan(crawl, database_url, host).returncode == 0
    assert diffed(database_url) == 1
    assert kinds(changes(database_url, host)[3]) == [
        ("page_changed", "a1"),
        ("sitemap_changed", "one.xml"),
    ]
    site.add("/one.xml", urlset(host, {**one3, "a5": "2026-01-01"}))
    assert scan(crawl, database_url, host).returncode == 0
    assert diffed(database_url) == 0
    assert kinds(changes(database_url, host)[4]) == [
        ("page_changed", "a5"),
        ("sitemap_changed", "one.xml"),
    ]
    assert domain(database_url, host)["sitemap_urls"] == 8


def test_a_url_listed_twice_after_a_change_is_read_in_full(database_url, web, crawl):
    host = "twice-listed.test"
    entries = {f"p{i}": "2024-01-01" for i in range(5)}
    site = site_with(web, host, {"s.xml": urlset(host, entries)})
    assert scan(crawl, database_url, host).returncode == 0
    # p1 listed again at the end with another lastmod: the last listing wins, as in a full read.
    doubled = urlset(host, entries).replace(
        "</urlset>", f"<url><loc>http://{host}/p1</loc><lastmod>2025-05-05</lastmod></url></urlset>"
    )
    site.add("/s.xml", doubled)
    assert scan(crawl, database_url, host).returncode == 0
    assert diffed(database_url) == 0
    assert kinds(changes(database_url, host)[1]) == [
        ("page_changed", "p1"),
        ("sitemap_changed", "s.xml"),
    ]
    assert when(pages(database_url, host)["p1"]["lastmod"]).year == 2025


def test_a_page_a_diffed_sitemap_drops_and_a_later_write_lists_again_was_moved(database_url):
    """The order the two sitemaps reach the writer decides nothing: removed in one write, listed
    again in the next, a page is moved (its listing change recorded, no removal, no addition)."""
    from scrapersky.db.engine import get_engine
    from scrapersky.db.models import DiscoveryMethod, Domain
    from scrapersky.db.store import ScanState, StoreBatch, write_batch
    from scrapersky.items import PageBatchItem, SitemapFileItem
    from scrapersky.sitemaps import PageEntry

    tenant, host = "550e8400-e29b-41d4-a716-446655440000", "moved.test"
    one, two = f"http://{host}/one.xml", f"http://{host}/two.xml"

    def file_item(url: str, **fields) -> SitemapFileItem:
        return SitemapFileItem(
            tenant,
            host,
            url,
            DiscoveryMethod.ROBOTS_TXT,
            sitemap_type="urlset",
            status_code=200,
            complete=True,
            **fields,
        )

    def pages_of(url: str, *entries: PageEntry) -> PageBatchItem:
        return PageBatchItem(tenant, host, url, list(entries))

    x, y = f"http://{host}/x", f"http://{host}/y"
    first = StoreBatch()
    first.add_file(file_item(one, url_count=2))
    first.add_file(file_item(two, url_count=0))
    first.add_pages(pages_of(one, PageEntry(x), PageEntry(y)))
    write_batch(database_url, first, {})
    with get_engine(database_url).begin() as connection:  # the first scan is over
        connection.execute(Domain.__table__.update().values(last_scan=datetime.now(UTC)))

    with get_engine(database_url).connect() as connection:
        key = (tenant, host)
        scans = {key: ScanState()}
        dropped = StoreBatch()  # one.xml, read by a diff, no longer lists x or y
        dropped.add_file(file_item(one, url_count=0, vanished=[x, y]))
        write_batch(database_url, dropped, {}, scans, connection)
        assert {
            p["url"]
            for p in rows(database_url, "select url from pages where removed_at is not null")
        } == {x, y}
        listed = StoreBatch()  # two.xml lists x as it was, and y with a lastmod
        listed.add_file(file_item(two, url_count=2))
        listed.add_pages(
            pages_of(two, PageEntry(x), PageEntry(y, datetime(2025, 1, 1, tzinfo=UTC)))
        )
        write_batch(database_url, listed, {}, scans, connection)

    found = rows(database_url, "select kind, subject from scan_changes where kind like 'page_%'")
    assert sorted((c["kind"], c["subject"]) for c in found) == [("page_changed", y)]
    stored = rows(database_url, "select url, removed_at, sitemap_file_id from pages order by url")
    two_id = scalar(database_url, "select id from sitemap_files where url = :u", u=two)
    assert [(p["url"], p["removed_at"], p["sitemap_file_id"]) for p in stored] == [
        (x, None, two_id),
        (y, None, two_id),
    ]


def test_a_sitemap_found_by_guessing_is_asked_again_whatever_the_homepage_says(
    sqlite_url, web, crawl
):
    """The first scan guessed /sitemap.txt because the homepage said Hexo; the rescan's homepage
    says nothing, so its own guesses would not reach that path: what earlier scans found by
    guessing is asked again, and its pages stay listed instead of counting as gone."""
    host = "guessed.test"
    hexo = '<html><head><meta name="generator" content="Hexo 6.3.0"></head><body>hi</body></html>'
    site = site_with(web, host, {"sitemap.xml": urlset(host, {"a": None})}, home=hexo)
    site.add("/sitemap.txt", f"http://{host}/t\n", content_type="text/plain")
    assert crawl(sqlite_url, "-a", f"domain={host}", *SETTINGS).returncode == 0
    site.add("/", "<html><head><title>Plain</title></head><body>hi</body></html>")
    again = crawl(sqlite_url, "-a", f"domain={host}", *SETTINGS)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(web.hits(host, "/sitemap.txt")) == 2
    [found] = rows(
        sqlite_url,
        "select discovery_method, removed_at from sitemap_files where url = :u",
        u=f"http://{host}/sitemap.txt",
    )
    assert (found["discovery_method"], found["removed_at"]) == ("well_known", None)
    assert scalar(sqlite_url, "select count(*) from pages where removed_at is null") == 2
