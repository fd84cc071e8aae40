"""Text PostgreSQL cannot store (NUL, lone surrogates) from one site must not cost another
site its data, nor stall the run in retries: it is made storable at the pipeline, a domain's
failed write is isolated from the others', and a data error is never retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from scrapersky.db.store import StoreBatch, write_batch
from scrapersky.items import DomainItem, PageBatchItem
from scrapersky.sitemaps import PageEntry
from tests.support.db import rows, scalar
from tests.support.sitemap_sites import pages, urlset

INNOCENT_URLS = 5000
UNSTORABLE = ("\x00", "\ud800", "\udfff")

# JSON-LD whose strings PostgreSQL's jsonb refuses as they are: \u0000 and lone surrogates
# (escapes json.loads turns into those characters), in values and in keys.
HOSTILE_JSON_LD = (
    '{"@context": "https://schema.org", "@type": "Organization",'
    ' "name": "Nul\\u0000Corp", "description": "half \\ud800 a pair",'
    ' "email": "info\\u0000@nul.test", "k\\u0000ey": ["\\udfff", {"deep": "a\\u0000b"}],'
    ' "sameAs": ["http://nul.test/\\u0000x"]}'
)
HOSTILE_HOME = (
    b"<html><head><title>Nul\x00 title</title>"
    b'<meta name="description" content="a \x00 description">'
    b'<script type="application/ld+json">' + HOSTILE_JSON_LD.encode() + b"</script>"
    b"</head><body><p>mail info@nul.test</p></body></html>"
)
HOSTILE_SITEMAP = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    ' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
    "<url><loc>http://nul.test/ok</loc></url>"
    "<url><loc>http://nul.test/a%00b</loc></url>"
    "<url><loc>http://nul.test/img</loc><image:image><image:loc>http://nul.test/i.png</image:loc>"
    "<image:title>pic</image:title></image:image></url>"
    "</urlset>"
)


def _hostile_site(web) -> None:
    site = web.site("nul.test")
    site.add(
        "/robots.txt", "Sitemap: http://nul.test/pages.xml\nSitemap: http://nul.test/more.txt\n"
    )
    site.add("/pages.xml", HOSTILE_SITEMAP)
    # A text sitemap with a literal NUL inside a URL.
    site.add(
        "/more.txt", b"http://nul.test/t1\nhttp://nul.test/t\x00two\n", content_type="text/plain"
    )
    site.add("/", HOSTILE_HOME, content_type="text/html; charset=utf-8")


def _innocent_site(web) -> None:
    site = web.site("innocent.test")
    site.add("/robots.txt", "Sitemap: http://innocent.test/pages.xml\n")
    site.add("/pages.xml", urlset(pages("innocent.test", "p", INNOCENT_URLS)))
    site.add("/", "<html><head><title>Innocent</title></head><body>hi</body></html>")


def _unstorable(value) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return any(ch in text for ch in UNSTORABLE) or "\\u0000" in text


def _scan_both(postgres_url, web, crawl, *settings: str):
    _hostile_site(web)
    _innocent_site(web)
    result = crawl(
        postgres_url,
        "-a",
        "domains=nul.test,innocent.test",
        "-s",
        "SCRAPERSKY_PAGE_CHUNK=500",
        *settings,
    )
    jobs = {j["domain"]: j for j in rows(postgres_url, "select * from jobs")}
    assert jobs["innocent.test"]["status"] == "complete", jobs["innocent.test"]["error"]
    innocent = scalar(postgres_url, "select id from domains where domain = 'innocent.test'")
    assert (
        scalar(postgres_url, "select count(*) from pages where domain_id = :d", d=innocent)
        == INNOCENT_URLS
    )
    # Data errors are not retried: no retry counted, no retry logged.
    log = result.stderr
    assert "retrying in" not in log and "scrapersky/store/retries" not in log, log[-3000:]
    for job in jobs.values():
        assert "scrapersky/store/retries" not in (job["stats"] or {})
    return jobs, log


def test_a_hostile_sites_text_is_stored_clean_beside_an_innocent_sites_rows(
    postgres_url, web, crawl
):
    jobs, _ = _scan_both(postgres_url, web, crawl)
    assert jobs["nul.test"]["status"] == "complete", jobs["nul.test"]["error"]
    domain = rows(postgres_url, "select * from domains where domain = 'nul.test'")[0]
    assert domain["status"] == "complete" and domain["structured_data"]
    # The HTML parser makes U+FFFD of a NUL byte itself; JSON-LD's \u0000 reaches us as NUL.
    assert domain["title"].startswith("Nul") and domain["title"].endswith(" title")
    assert "NulCorp" in json.dumps(domain["structured_data"])
    assert "half \ufffd a pair" in json.dumps(domain["structured_data"], ensure_ascii=False)
    stored = rows(postgres_url, "select * from pages where domain_id = :d", d=domain["id"])
    # %00 is three characters of a URL; a literal NUL in one drops that URL.
    assert {r["url"] for r in stored} == {
        "http://nul.test/ok",
        "http://nul.test/a%00b",
        "http://nul.test/img",
        "http://nul.test/t1",
    }
    files = rows(postgres_url, "select * from sitemap_files where domain_id = :d", d=domain["id"])
    job = jobs["nul.test"]
    for value in [*domain.values(), *stored, *files, job["result_data"], job["stats"]]:
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "listing"}  # bytes: any byte goes
        assert not _unstorable(value), value


def test_a_domain_the_database_refuses_fails_alone_with_its_reason(postgres_url, web, crawl):
    """The writer's own guarantee, with the sanitiser switched off: the hostile domain's rows are
    refused, its job ends failed with the reason, and the innocent domain loses nothing."""
    pipelines = json.dumps({"scrapersky.pipelines.StorePipeline": 300})
    jobs, log = _scan_both(postgres_url, web, crawl, "-s", f"ITEM_PIPELINES={pipelines}")
    job = jobs["nul.test"]
    assert job["status"] == "failed" and job["error"].startswith("storing results failed"), job
    assert "could not store the results of nul.test" in log
    domain = rows(postgres_url, "select * from domains where domain = 'nul.test'")[0]
    assert domain["status"] == "failed" and domain["last_error"] == job["error"]


def test_one_domains_unstorable_row_does_not_roll_back_anothers(database_url):
    """The writer's isolation on its own: a row that reaches it unsanitised (the pipeline
    bypassed) fails only its own domain's part of the flush. PostgreSQL refuses the NUL,
    SQLite's driver the lone surrogate."""
    batch = StoreBatch()
    innocent = [PageEntry(u) for u in pages("innocent.test", "p", INNOCENT_URLS)]
    batch.add_pages(PageBatchItem("t", "innocent.test", "http://innocent.test/pages.xml", innocent))
    batch.add_pages(
        PageBatchItem(
            "t", "nul.test", "http://nul.test/s.xml", [PageEntry("http://nul.test/a\x00\ud800")]
        )
    )
    now = datetime.now(UTC)
    for domain, title in (("nul.test", "bad\x00\ud800title"), ("innocent.test", "fine")):
        item = DomainItem(
            "t", domain, "complete", now, metadata={"title": title}, homepage_read=True
        )
        batch.add_domain(item.__dict__)
    failed: dict = {}
    write_batch(database_url, batch, {}, failed=failed)
    assert set(failed) == {("t", "nul.test")} and failed[("t", "nul.test")]
    assert scalar(database_url, "select count(*) from pages") == INNOCENT_URLS
    assert rows(database_url, "select domain, status, title from domains order by domain") == [
        {"domain": "innocent.test", "status": "complete", "title": "fine"},
        {"domain": "nul.test", "status": "pending", "title": None},
    ]


def test_any_text_made_storable_is_taken_by_postgresql_text_and_jsonb(postgres_url):
    from hypothesis import given
    from hypothesis import strategies as st
    from sqlalchemy import create_engine, text

    from scrapersky.core.storable import storable_text
    from scrapersky.db.normalize import json_safe

    any_text = st.text(st.characters(codec=None, exclude_categories=()))
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TEMP TABLE t (plain text, doc jsonb)")

        @given(any_text, st.dictionaries(any_text, st.lists(any_text, max_size=3), max_size=3))
        def stored(plain, doc):
            with connection.begin_nested():
                connection.execute(
                    text("INSERT INTO t VALUES (:plain, cast(:doc AS jsonb))"),
                    {"plain": storable_text(plain), "doc": json.dumps(json_safe(doc))},
                )

        stored()
    engine.dispose()
