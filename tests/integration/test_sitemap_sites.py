"""Sitemap discovery and parsing through the real spider into the database: one fixture site per case."""

from __future__ import annotations

import pytest

from scrapersky.sitemaps.discovery import GENERATOR_PATHS, WELL_KNOWN_PATHS
from tests.conftest import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
    scrapy,
    scrapy_env,
)
from tests.support import sitemap_sites
from tests.support.db import rows

# Every path discovery may guess, for the cases that say which were guessed.
GUESSABLE = {*WELL_KNOWN_PATHS, *(path for paths in GENERATOR_PATHS.values() for path in paths)}

SETTINGS = [
    "-s",
    "SCRAPERSKY_SITEMAP_MAX_DEPTH=3",
    "-s",
    "SCRAPERSKY_SITEMAP_MAX_BYTES=8388608",
    "-s",
    "DOWNLOAD_MAXSIZE=8388608",
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def scanned(web_factory, request, tmp_path_factory):
    """Every case site scanned in one run; yields (database_url, web, cases)."""
    from scrapersky.db.schema import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sites') / 'scrapersky.db'}"
    else:
        require_postgres()
        url = create_postgres_database()
    upgrade(url)
    web = web_factory()
    cases = sitemap_sites.build(web)
    result = scrapy(
        "crawl",
        "sitemap",
        "-a",
        "domains=" + ",".join(cases),
        *SETTINGS,
        env=scrapy_env(url, web, SCRAPERSKY_SCHEMES="http"),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    yield url, web, cases
    if request.param == "postgres":
        drop_postgres_database(url)


CASES = [
    "robots.test",
    "wellknown.test",
    "textonly.test",
    "gzonly.test",
    "declared.test",
    "yoast.test",
    "hugo.test",
    "news.test",
    "wp.test",
    "htmllink.test",
    "deep.test",
    "capped.test",
    "redirect.test",
    "gzip.test",
    "feeds.test",
    "messy.test",
    "truncated.test",
    "soft404.test",
    "softwk.test",
    "fields.test",
    "hostile.test",
    "dupes.test",
]


def _domain(url, host):
    found = rows(url, "select * from domains where domain = :d", d=host)
    assert found, f"no domain row for {host}"
    return found[0]


def _pages(url, host):
    return {
        r["url"]: r
        for r in rows(
            url,
            "select p.* from pages p join domains d on d.id = p.domain_id where d.domain = :d",
            d=host,
        )
    }


def _files(url, host):
    return {
        r["url"]: r
        for r in rows(
            url,
            "select f.* from sitemap_files f join domains d on d.id = f.domain_id "
            "where d.domain = :d",
            d=host,
        )
    }


@pytest.mark.parametrize("host", CASES)
def test_case(scanned, host):
    url, web, cases = scanned
    expect = cases[host]
    domain, pages, files = _domain(url, host), _pages(url, host), _files(url, host)
    assert domain["status"] == "complete", domain["last_error"]
    if "urls" in expect:
        assert len(pages) == expect["urls"], sorted(pages)
        assert domain["sitemap_urls"] == expect["urls"]
    if "urls_at_most" in expect:
        assert len(pages) <= expect["urls_at_most"]
    for file_url, method in expect.get("files", {}).items():
        assert files[file_url]["discovery_method"] == method
        assert files[file_url]["status_code"] == 200 and files[file_url]["url_count"] > 0
    for file_url, kind in expect.get("types", {}).items():
        assert files[file_url]["sitemap_type"] == kind
    for file_url, flag in expect.get("gzipped", {}).items():
        assert bool(files[file_url]["is_gzipped"]) is flag
    for file_url in expect.get("errors", []):
        assert files[file_url]["error_message"], file_url
    if "file_count" in expect:
        assert len(files) == expect["file_count"], files
    for page_url in expect.get("present", []):
        assert page_url in pages, sorted(pages)
    for path in expect.get("once", []):
        assert len(web.hits(host, path)) == 1, path
    for path in expect.get("never", []):
        assert not web.hits(host, path), path
    if "guessed" in expect:  # exactly these well-known paths were guessed, each once
        asked = {r.path for r in web.hits(host) if r.path in GUESSABLE}
        assert sorted(asked) == sorted({*expect["guessed"], *expect.get("reached", [])})
        assert all(len(web.hits(host, path)) == 1 for path in expect["guessed"])
    # listed URLs are recorded, never fetched just to be listed (max_pages=0)
    fetched = {r.url for r in web.hits(host)}
    assert not (set(pages) - {f"http://{host}/"}) & fetched
    # every page row points at the sitemap file that listed it
    assert all(p["sitemap_file_id"] for p in pages.values())


def test_well_known_paths_are_probed_concurrently(scanned):
    _, web, cases = scanned
    probes = [
        r
        for r in web.hits("wellknown.test")
        if r.path not in ("/", "/robots.txt", "/a.xml", "/favicon.ico")
    ]
    assert len(probes) == 3  # one round of the most common paths: two of them answered
    assert cases["wellknown.test"]["probes_in_flight"].peak == 2  # not one after another


def test_parent_ids_follow_the_index_tree(scanned):
    url, _, _ = scanned
    files = _files(url, "wp.test")
    root = files["http://wp.test/wp-sitemap.xml"]
    children = [f for f in files.values() if f["parent_id"] == root["id"]]
    assert len(children) == 2 and {c["discovery_method"] for c in children} == {"sitemap_index"}
    assert root["url_count"] == 2


def test_per_url_fields(scanned):
    url, _, _ = scanned
    pages = _pages(url, "fields.test")
    iso = pages["http://fields.test/iso"]
    assert str(iso["lastmod"]).startswith("2024-03-05 08:20:30")
    assert iso["changefreq"] == "weekly" and iso["priority"] == pytest.approx(0.7)
    alternates = iso["alternates"]
    assert {"hreflang": "de", "href": "http://fields.test/de/iso"} in alternates
    images = iso["images"]
    assert [i["loc"] for i in images] == ["http://fields.test/1.jpg", "http://fields.test/2.jpg"]
    assert iso["videos"] == [
        {
            "thumbnail_loc": "http://fields.test/v.jpg",
            "title": "v",
            "content_loc": "http://fields.test/v.mp4",
        }
    ]
    assert pages["http://fields.test/rfc"]["videos"] is None
    rfc = pages["http://fields.test/rfc"]
    assert str(rfc["lastmod"]).startswith("2024-03-05 10:20:30")
    assert rfc["priority"] is None and rfc["changefreq"] is None
    bad = pages["http://fields.test/bad"]
    assert bad["lastmod"] is None and bad["priority"] is None
    news = pages["http://fields.test/news"]["news"]
    assert news["title"] == "Big & news" and news["publication_name"] == "Daily"


def test_nothing_from_hostile_files_leaks(scanned):
    url, _, _ = scanned
    everything = str(rows(url, "select * from pages")) + str(
        rows(url, "select * from sitemap_files")
    )
    assert sitemap_sites.SECRET not in everything
    assert "aaaaaaaaaaaaaaaaaaaa" not in everything  # no entity expansion
