"""Shapes real sites have that the scan must handle: www-only hosts, sitemaps published both in
robots.txt and only at a well-known path, robots.txt that disallows everything."""

from __future__ import annotations

import json

from tests.support.db import rows, scalar

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _urlset(urls: list[str]) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>'
        + "".join(f"<url><loc>{u}</loc></url>" for u in urls)
        + "</urlset>"
    )


def _www_only(web, host: str) -> list[str]:
    """The www host serves the site (a Jekyll blog's 27 URLs); the bare name serves nothing."""
    urls = [f"http://www.{host}/"] + [
        f"http://www.{host}/{year}/post-{n}/" for year in (2021, 2022) for n in range(13)
    ]
    site = web.site(f"www.{host}")
    site.add("/robots.txt", f"User-agent: *\nSitemap: http://www.{host}/sitemap.xml\n")
    site.add("/sitemap.xml", _urlset(urls))
    site.add(
        "/",
        "<html><head><title>Only on www</title><meta name=description content='A blog'></head>"
        "<body><p>Posts</p></body></html>",
    )
    return urls


def test_a_site_only_on_www_is_scanned_there_when_the_bare_host_answers_404(
    database_url, web, crawl
):
    urls = _www_only(web, "wwwonly.test")
    web.site("wwwonly.test")  # known to the server, every path 404
    result = crawl(database_url, "-a", "domain=wwwonly.test", SCRAPERSKY_SCHEMES="http")
    assert result.returncode == 0, result.stderr[-3000:]
    domain = rows(database_url, "select * from domains")[0]
    assert domain["domain"] == "wwwonly.test" and domain["status"] == "complete"
    assert domain["title"] == "Only on www" and domain["sitemap_urls"] == 27
    assert {r["url"] for r in rows(database_url, "select url from pages")} == set(urls)
    metadata = domain["domain_metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata["scan"]["base_url"] == "http://www.wwwonly.test"
    assert web.hits("wwwonly.test", "/")  # the bare host was asked first


def test_a_site_only_on_www_is_scanned_there_when_the_bare_host_is_unreachable(
    database_url, web, crawl
):
    _www_only(web, "wwwonly2.test")  # the bare name is unknown to the server: 502 from the proxy
    result = crawl(database_url, "-a", "domain=wwwonly2.test", SCRAPERSKY_SCHEMES="http")
    assert result.returncode == 0, result.stderr[-3000:]
    assert rows(database_url, "select status, error from jobs") == [
        {"status": "complete", "error": None}
    ]
    assert scalar(database_url, "select sitemap_urls from domains") == 27


def test_neither_host_answering_keeps_both_reasons(sqlite_url, web, crawl):
    web.site("gone.test").add("/", "down", status=503).add("/robots.txt", "down", status=503)
    result = crawl(sqlite_url, "-a", "domain=gone.test", SCRAPERSKY_SCHEMES="http")
    assert result.returncode == 1
    error = rows(sqlite_url, "select error from jobs")[0]["error"]
    assert error.startswith("homepage: HTTP 503; www.gone.test: homepage: HTTP 502")


def test_a_sitemap_published_only_at_a_well_known_path_is_found_beside_the_declared_one(
    database_url, web, crawl
):
    # Yoast-style: robots.txt names the post sitemap; the index of the rest sits at /sitemap_index.xml.
    host = "twosets.test"
    site = web.site(host)
    site.add(
        "/robots.txt",
        f"User-agent: *\nDisallow: /wp-admin/\nSitemap: http://{host}/post-sitemap.xml\n",
    )
    posts = [f"http://{host}/post-{n}/" for n in range(5)]
    pages = [f"http://{host}/page-{n}/" for n in range(3)]
    site.add("/post-sitemap.xml", _urlset(posts))
    site.add(
        "/sitemap_index.xml",
        f'<?xml version="1.0"?><sitemapindex {NS}>'
        f"<sitemap><loc>http://{host}/page-sitemap.xml</loc></sitemap>"
        f"<sitemap><loc>http://{host}/post-sitemap.xml</loc></sitemap></sitemapindex>",
    )
    site.add("/page-sitemap.xml", _urlset(pages))
    site.add(
        "/sitemap.xml", _urlset(posts)
    )  # the same bytes as the declared sitemap, under a guessed name
    site.add("/", "<html><head><title>Two sets</title></head><body>x</body></html>")
    result = crawl(database_url, "-a", f"domain={host}", SCRAPERSKY_SCHEMES="http")
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["url"] for r in rows(database_url, "select url from pages")} == set(posts + pages)
    files = {
        r["url"]: r["discovery_method"]
        for r in rows(database_url, "select url, discovery_method from sitemap_files")
    }
    # page-sitemap.xml is itself a well-known path: found as a guess or through the index, whichever answers first.
    assert files.pop(f"http://{host}/page-sitemap.xml") in ("well_known", "sitemap_index")
    assert files == {
        f"http://{host}/post-sitemap.xml": "robots_txt",
        f"http://{host}/sitemap_index.xml": "well_known",
    }
    assert (
        scalar(database_url, "select sitemap_urls from domains") == 8
    )  # the copy is not counted twice
    assert len(web.hits(host, "/post-sitemap.xml")) == 1
    # A rescan, where the declared sitemap is unchanged and not read again, still knows the copy.
    assert crawl(database_url, "-a", f"domain={host}", SCRAPERSKY_SCHEMES="http").returncode == 0
    assert scalar(database_url, "select sitemap_urls from domains") == 8
    assert {r["url"] for r in rows(database_url, "select url from sitemap_files")} == set(files) | {
        f"http://{host}/page-sitemap.xml"
    }
    assert rows(
        database_url,
        "select distinct p.sitemap_file_id = f.id as same from pages p join sitemap_files f "
        "on f.url = :u where p.url like :posts",
        u=f"http://{host}/post-sitemap.xml",
        posts=f"http://{host}/post-%",
    ) == [{"same": True}]


def test_robots_disallowing_everything_makes_the_homepage_a_note_not_a_failure(
    database_url, web, crawl
):
    # A real WordPress site's robots.txt: everything disallowed, the core sitemap still declared.
    host = "private-wp.test"
    site = web.site(host)
    site.add(
        "/robots.txt", f"User-agent: *\nDisallow: /\n\nSitemap: http://{host}/wp-sitemap.xml\n"
    )
    site.add(
        "/wp-sitemap.xml",
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>'
        f"<sitemap><loc>http://{host}/wp-sitemap-posts-post-1.xml</loc></sitemap></sitemapindex>",
    )
    posts = [f"http://{host}/{n}/" for n in ("hello-world", "about", "contact")]
    site.add("/wp-sitemap-posts-post-1.xml", _urlset(posts))
    site.add("/", "<html><head><title>Private</title></head><body>x</body></html>")
    result = crawl(database_url, "-a", f"domain={host}", SCRAPERSKY_SCHEMES="http")
    assert result.returncode == 0, result.stderr[-3000:]
    assert rows(database_url, "select status, error from jobs") == [
        {"status": "complete", "error": None}
    ]
    domain = rows(database_url, "select status, last_error, sitemap_urls, title from domains")[0]
    assert (
        domain["status"] == "complete" and domain["sitemap_urls"] == 3 and domain["title"] is None
    )
    assert "robots.txt disallows" in domain["last_error"]
    assert {r["url"] for r in rows(database_url, "select url from pages")} == set(posts)
    assert not web.hits(host, "/")  # never fetched


def test_a_child_sitemap_misplaced_in_a_urlset_is_followed(sqlite_url, web, crawl):
    host = "mixed.test"
    site = web.site(host)
    site.add("/robots.txt", f"Sitemap: http://{host}/sitemap.xml\n")
    site.add(
        "/sitemap.xml",
        _urlset([f"http://{host}/a"]).replace(
            "</urlset>", f"<sitemap><loc>http://{host}/more.xml</loc></sitemap></urlset>"
        ),
    )
    site.add("/more.xml", _urlset([f"http://{host}/b", f"http://{host}/c"]))
    site.add("/", "<html><head><title>Mixed</title></head><body>x</body></html>")
    result = crawl(sqlite_url, "-a", f"domain={host}", SCRAPERSKY_SCHEMES="http")
    assert result.returncode == 0, result.stderr[-3000:]
    assert {r["url"] for r in rows(sqlite_url, "select url from pages")} == {
        f"http://{host}/{p}" for p in "abc"
    }
    files = {
        r["url"]: r
        for r in rows(
            sqlite_url,
            "select url, discovery_method, url_count, error_message from sitemap_files",
        )
    }
    assert files[f"http://{host}/more.xml"]["discovery_method"] == "sitemap_index"
    assert files[f"http://{host}/sitemap.xml"]["url_count"] == 2  # the page and the child it names
    assert (
        "deviates from the protocol: <sitemap> inside a urlset"
        in files[f"http://{host}/sitemap.xml"]["error_message"]
    )
