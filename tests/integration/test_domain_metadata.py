"""Domain metadata through the real spider: stored on the domain row, per tenant, rendered when needed."""

from __future__ import annotations

from tests.support.db import rows, scalar
from tests.support.fixture_web import DEMO_EMAIL, DEMO_PHONE, demo_site

OTHER_TENANT = "6f1c2a8e-0000-4000-8000-000000000001"


def test_metadata_lands_on_the_domain_row(database_url, web, crawl):
    demo_site(web, "meta.test")
    assert crawl(database_url, "-a", "domain=meta.test").returncode == 0
    domain = rows(database_url, "select * from domains")[0]
    assert domain["title"] and domain["description"] and domain["language"] == "en"
    assert DEMO_EMAIL in domain["email_addresses"] and DEMO_PHONE in domain["phone_numbers"]
    assert domain["facebook_url"] and domain["instagram_url"]
    assert domain["favicon_url"].startswith("http://meta.test/")
    assert (
        domain["domain_metadata"]["title"] == domain["title"]
    )  # everything also in domain_metadata
    assert domain["last_scan"] is not None and domain["total_sitemaps"] == 3


def test_favicon_fallback_probes_favicon_ico(sqlite_url, web, crawl):
    site = web.site("icon.test")
    site.add("/", "<html><head><title>No icon link</title></head><body>text</body></html>")
    site.add("/favicon.ico", b"\x00\x00\x01\x00", content_type="image/x-icon")
    assert crawl(sqlite_url, "-a", "domain=icon.test").returncode == 0
    assert scalar(sqlite_url, "select favicon_url from domains") == "http://icon.test/favicon.ico"


def test_max_pages_fetches_that_many_listed_pages(sqlite_url, web, crawl):
    demo_site(web, "pages.test")
    assert crawl(sqlite_url, "-a", "domain=pages.test", "-a", "max_pages=3").returncode == 0
    assert scalar(sqlite_url, "select count(*) from pages") == 20  # every listed URL recorded
    fetched = rows(
        sqlite_url,
        "select url, status_code, title, fetched_at from pages where fetched_at is not null",
    )
    assert len(fetched) == 3
    assert all(p["status_code"] == 200 and p["title"] for p in fetched)


def test_rescan_updates_in_place_and_tenants_get_their_own_rows(database_url, web, crawl):
    site = demo_site(web, "tenant.test")
    assert crawl(database_url, "-a", "domain=tenant.test").returncode == 0
    first = rows(database_url, "select id, title, last_scan from domains")[0]
    site.add("/", "<html><head><title>New title</title></head><body>changed</body></html>")
    assert crawl(database_url, "-a", "domain=tenant.test").returncode == 0
    second = rows(database_url, "select id, title, last_scan from domains")
    assert len(second) == 1 and second[0]["id"] == first["id"]
    assert second[0]["title"] == "New title" and second[0]["last_scan"] > first["last_scan"]
    assert (
        crawl(
            database_url, "-a", "domain=tenant.test", "-a", f"tenant_id={OTHER_TENANT}"
        ).returncode
        == 0
    )
    tenants = rows(
        database_url,
        "select tenant_id, count(*) n from domains group by tenant_id order by tenant_id",
    )
    assert [t["n"] for t in tenants] == [1, 1] and len(tenants) == 2
    # each tenant's pages hang off its own domain row
    per_domain = rows(database_url, "select domain_id, count(*) n from pages group by domain_id")
    assert len(per_domain) == 2 and {p["n"] for p in per_domain} == {20}


def test_javascript_only_homepage_is_rendered_in_chromium(chromium, sqlite_url, web, crawl):
    site = web.site("spa.test")
    site.add(
        "/",
        '<!DOCTYPE html><html><head><script src="/app.js"></script></head>'
        '<body><div id="root"></div></body></html>',
        content_type="text/html",
    )
    site.add(
        "/app.js",
        "document.title = 'Rendered by JavaScript';"
        "window.addEventListener('DOMContentLoaded', () => {"
        " document.getElementById('root').innerHTML = '<h1>Hello from the browser</h1>'"
        " + '<a href=\"mailto:js@spa-shop.com\">mail</a>'; });",
        content_type="application/javascript",
    )
    result = crawl(sqlite_url, "-a", "domain=spa.test", timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    domain = rows(sqlite_url, "select title, email_addresses, domain_metadata from domains")[0]
    assert domain["title"] == "Rendered by JavaScript"
    assert domain["domain_metadata"]["rendered"] is True
    assert "js@spa-shop.com" in domain["email_addresses"]
    assert "'playwright/browser_count': 1," in result.stderr  # the stats Scrapy logs at the end


def test_render_never_keeps_the_static_html(chromium, sqlite_url, web, crawl):
    site = web.site("static.test")
    site.add(
        "/",
        '<html><head><script src="/app.js"></script></head><body><div id="root"></div></body></html>',
    )
    site.add("/app.js", "document.title = 'Rendered';", content_type="application/javascript")
    result = crawl(sqlite_url, "-a", "domain=static.test", "-a", "render=never")
    assert result.returncode == 0, result.stderr[-3000:]
    assert scalar(sqlite_url, "select title from domains") is None
    assert not web.hits("static.test", "/app.js")
    # Chromium is there, but a run that renders nothing does not even make scrapy-playwright's
    # handler (it logs its start), let alone start Playwright or a browser.
    assert "[scrapy-playwright]" not in result.stderr
    assert "Launching browser" not in result.stderr
    assert "playwright/browser_count" not in result.stderr
