"""Bulk upserts of listed pages (store.write_batch → bulk.upsert_listed_pages) are idempotent and exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from scrapersky.db.engine import session_scope
from scrapersky.db.models import Domain, Page, SitemapFile
from scrapersky.db.store import StoreBatch, write_batch
from scrapersky.items import PageBatchItem, PageItem, SitemapFileItem
from scrapersky.sitemaps import PageEntry

TENANT = "550e8400-e29b-41d4-a716-446655440000"
DOMAIN = "bulk.test"
SITEMAP_A = "http://bulk.test/sitemap-a.xml"
SITEMAP_B = "http://bulk.test/sitemap-b.xml.gz"
ROWS = 1500


def page(index: int, **changes: Any) -> dict[str, Any]:
    row = {
        "url": f"https://bulk.test/catalog/item-{index}",
        "lastmod": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=index),
        "changefreq": "weekly",
        "priority": 0.5,
        "alternates": None,
        "images": None,
        "news": None,
        "videos": None,
    }
    row.update(changes)
    return row


def listing(count: int = ROWS, **changed: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(sitemap URL, rows) pairs: the first half of the pages in sitemap A, the rest in B."""
    rows = [page(i, **changed.get(str(i), {})) for i in range(count)]
    return [(SITEMAP_A, rows[: count // 2]), (SITEMAP_B, rows[count // 2 :])]


def entry(row: dict[str, Any]) -> PageEntry:
    return PageEntry(
        **{**row, "alternates": row["alternates"] or [], "images": row["images"] or []}
    )


def write(
    database_url: str,
    items: list[tuple[str, list[dict[str, Any]]]],
    *,
    files: list[SitemapFileItem] = (),
) -> int:
    batch = StoreBatch()
    for file_item in files:
        batch.add_file(file_item)
    for sitemap_url, rows in items:
        batch.add_pages(PageBatchItem(TENANT, DOMAIN, sitemap_url, [entry(row) for row in rows]))
    return write_batch(database_url, batch, {})


def stored(database_url: str) -> dict[str, dict[str, Any]]:
    with session_scope(database_url) as session:
        files = dict(session.execute(select(SitemapFile.id, SitemapFile.url)).all())
        return {
            p.url: {
                "id": p.id,
                "sitemap": files.get(p.sitemap_file_id),
                "sitemap_file_id": p.sitemap_file_id,
                "lastmod": _utc(p.lastmod),
                "changefreq": p.changefreq,
                "priority": p.priority,
                "alternates": p.alternates,
                "images": p.images,
                "news": p.news,
                "videos": p.videos,
            }
            for p in session.scalars(select(Page))
        }


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive (stored as UTC), PostgreSQL aware.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_writing_unchanged_rows_again_changes_nothing_and_keeps_ids(database_url):
    assert write(database_url, listing()) == ROWS
    first = stored(database_url)
    assert len(first) == ROWS
    assert write(database_url, listing()) == 0
    assert stored(database_url) == first


def test_changed_lastmods_are_exactly_the_rows_rewritten(database_url):
    write(database_url, listing())
    before = stored(database_url)
    moved = {
        str(i): {"lastmod": datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=i)}
        for i in range(0, ROWS, 7)
    }
    cleared = {"3": {"lastmod": None}}  # a lastmod that disappears is a change too
    assert write(database_url, listing(**moved, **cleared)) == len(moved) + len(cleared)
    after = stored(database_url)
    for index in range(ROWS):
        url = page(index)["url"]
        expected = {**moved, **cleared}.get(str(index), {}).get("lastmod", before[url]["lastmod"])
        assert after[url]["lastmod"] == expected
        assert after[url]["id"] == before[url]["id"]


def test_other_listing_columns_count_as_changes(database_url):
    write(database_url, listing(20))
    changes = {
        "1": {"changefreq": "daily"},
        "2": {"priority": 0.9},
        "3": {"priority": None},
        "4": {"images": [{"loc": "https://bulk.test/i.png"}]},
    }
    assert write(database_url, listing(20, **changes)) == 4
    after = stored(database_url)
    assert after[page(1)["url"]]["changefreq"] == "daily"
    assert after[page(2)["url"]]["priority"] == 0.9
    assert after[page(3)["url"]]["priority"] is None
    assert after[page(4)["url"]]["images"] == [{"loc": "https://bulk.test/i.png"}]


def test_duplicates_inside_one_batch_are_written_once(database_url):
    early, late = page(1, changefreq="daily"), page(1, changefreq="monthly")
    items = [(SITEMAP_A, [page(0), early, page(0)]), (SITEMAP_B, [late, page(2)])]
    assert write(database_url, items) == 3
    rows = stored(database_url)
    assert sorted(rows) == sorted(page(i)["url"] for i in range(3))
    # The later listing of a URL is the one kept, sitemap included.
    assert rows[page(1)["url"]]["changefreq"] == "monthly"
    assert rows[page(1)["url"]]["sitemap"] == SITEMAP_B


def test_rows_keep_their_sitemap_file_id(database_url):
    write(database_url, listing())
    first = stored(database_url)
    assert [first[page(i)["url"]]["sitemap"] for i in range(ROWS)] == [SITEMAP_A] * (ROWS // 2) + [
        SITEMAP_B
    ] * (ROWS - ROWS // 2)

    # The sitemap files' own items (as the spider sends them, 200 then 304) leave the page rows alone.
    files = [
        SitemapFileItem(
            TENANT,
            DOMAIN,
            SITEMAP_A,
            "robots_txt",
            sitemap_type="urlset",
            url_count=ROWS // 2,
            status_code=200,
            etag='"a1"',
        ),
        SitemapFileItem(TENANT, DOMAIN, SITEMAP_B, "robots_txt", status_code=304, unchanged=True),
    ]
    assert write(database_url, listing(), files=files) == 0
    assert stored(database_url) == first

    # A URL moving to the other sitemap is one change, and points at that sitemap's row.
    mover = page(0)
    items = listing()
    items[0][1].remove(mover)
    items[1][1].append(mover)
    assert write(database_url, items) == 1
    after = stored(database_url)
    assert after[mover["url"]]["sitemap"] == SITEMAP_B
    assert after[mover["url"]]["id"] == first[mover["url"]]["id"]
    assert {url: row for url, row in after.items() if url != mover["url"]} == {
        url: row for url, row in first.items() if url != mover["url"]
    }


def test_json_and_text_columns_round_trip(database_url):
    tricky = page(
        0,
        url='https://bulk.test/search?q="mugs,bowls"&x=1\\2&t=a\tb\\N',
        alternates=[
            {"hreflang": "de-CH", "href": "https://bulk.test/de/tassen-ä?a=1,2"},
            {"hreflang": "x-default", "href": "https://bulk.test/"},
        ],
        images=[
            {
                "loc": "https://bulk.test/i/1.jpg",
                "title": 'Mug "blue", 12 oz\nsecond line',
                "caption": "Ünïcødé ☕ and a tab\there",
            }
        ],
        news={
            "title": 'Comma, "quote" and \\ backslash',
            "publication_name": "Bulk Daily",
            "publication_language": "en",
            "publication_date": "2024-05-01T00:00:00+00:00",
        },
        videos=[
            {
                "thumbnail_loc": "https://bulk.test/t.jpg",
                "title": "Steaks & burgers",
                "description": "Tab\there, newline\nthere, back\\slash",
                "duration": "600",
            }
        ],
    )
    empty = page(1, lastmod=None, changefreq=None, priority=None)
    moon = page(
        2, lastmod=datetime(1969, 7, 20, 20, 17, 40, 123456, tzinfo=UTC)
    )  # before the epoch, to the µs
    assert write(database_url, [(SITEMAP_A, [tricky, empty, moon])]) == 3
    rows = stored(database_url)
    for sent in (tricky, empty, moon):
        got = rows[sent["url"]]
        fields = ("lastmod", "changefreq", "priority", "alternates", "images", "news", "videos")
        assert {k: got[k] for k in fields} == {k: sent[k] for k in fields}
    assert write(database_url, [(SITEMAP_A, [tricky, empty, moon])]) == 0


def test_a_batch_naming_tens_of_thousands_of_sitemaps(database_url):
    # A site whose index lists very many tiny sitemaps: one flush may name more sitemap files
    # than SQLite allows parameters in one statement.
    count = 20_000
    items = [(f"http://bulk.test/s/{i}.xml", [page(i)]) for i in range(count)]
    assert write(database_url, items) == count
    rows = stored(database_url)
    assert len(rows) == count
    assert all(
        rows[page(i)["url"]]["sitemap"] == f"http://bulk.test/s/{i}.xml" for i in range(count)
    )


def test_a_page_fetched_before_any_sitemap_listed_it_gets_its_first_seen_time(database_url):
    # The page row is made by the fetch (its title read) in one flush; a sitemap lists it in a
    # later one. Its first listing is when it was first seen: the row must not keep a NULL.
    url = page(0)["url"]
    batch = StoreBatch()
    batch.add_fetch(
        PageItem(TENANT, DOMAIN, url, 200, "Item", None, datetime(2024, 6, 1, tzinfo=UTC))
    )
    write_batch(database_url, batch, {})
    with session_scope(database_url) as session:
        assert session.scalars(select(Page.first_seen_at)).all() == [None]
    write(database_url, [(SITEMAP_A, [page(0)])])
    with session_scope(database_url) as session:
        first, last = session.execute(select(Page.first_seen_at, Page.last_seen_at)).one()
    assert first is not None and first == last


def _scan_part(batch: StoreBatch, domain: str, *, twice: bool = False) -> None:
    """An index and its child, which lists two pages; `twice`: the child's file item comes twice."""
    index, child = f"http://{domain}/sitemap_index.xml", f"http://{domain}/pages.xml"
    batch.add_file(
        SitemapFileItem(
            TENANT,
            domain,
            index,
            "robots_txt",
            sitemap_type="index",
            url_count=1,
            status_code=200,
            complete=True,
        )
    )
    for _ in range(2 if twice else 1):
        batch.add_file(
            SitemapFileItem(
                TENANT,
                domain,
                child,
                "sitemap_index",
                parent_url=index,
                sitemap_type="urlset",
                url_count=2,
                status_code=200,
                complete=True,
            )
        )
    pages = [PageEntry(f"http://{domain}/p{i}") for i in range(2)]
    batch.add_pages(PageBatchItem(TENANT, domain, child, pages))


def test_several_domains_in_one_write_keep_their_own_files_parents_pages_and_times(database_url):
    from scrapersky.db.store import ScanState

    domains = ["one.test", "two.test", "twice.test", "again.test"]
    first = StoreBatch()
    _scan_part(first, "again.test")
    first.add_domain(
        {
            "tenant_id": TENANT,
            "domain": "again.test",
            "status": "complete",
            "last_scan": datetime.now(UTC),
            "last_error": None,
            "metadata": {},
            "homepage_read": False,
            "sitemaps_complete": True,
        }
    )
    write_batch(database_url, first, {})
    batch = StoreBatch()
    for domain in domains:
        _scan_part(batch, domain, twice=domain == "twice.test")
    base = datetime(2026, 12, 1, tzinfo=UTC)
    scans = {
        (TENANT, d): ScanState(stamp=base + timedelta(minutes=n)) for n, d in enumerate(domains)
    }
    write_batch(database_url, batch, {}, scans)
    assert scans[(TENANT, "again.test")].rescan and not scans[(TENANT, "one.test")].rescan
    with session_scope(database_url) as session:
        files = {f.id: f for f in session.scalars(select(SitemapFile))}
        pages = list(session.scalars(select(Page)))
    by_url = {f.url: f for f in files.values()}
    for n, domain in enumerate(domains):
        index, child = (
            by_url[f"http://{domain}/sitemap_index.xml"],
            by_url[f"http://{domain}/pages.xml"],
        )
        assert child.parent_id == index.id and index.domain_id == child.domain_id
        assert _utc(child.confirmed_at) == base + timedelta(minutes=n)
        listed = sorted(p.url for p in pages if files[p.sitemap_file_id] is child)
        assert listed == [f"http://{domain}/p0", f"http://{domain}/p1"]
        assert all(p.domain_id == child.domain_id for p in pages if p.url in listed)
    assert len(files) == 2 * len(domains)


def test_first_scans_listed_in_one_write_keep_each_listing_with_its_own_domain(database_url):
    """Several first scans' pages go in together (one COPY and merge on PostgreSQL): each page
    keeps its domain, its sitemap, its scan's time and, listed twice, its last listing; one
    domain name scanned for two tenants is two domains. The second domain lists the most pages,
    so it goes into the merge first and the domains before and after it are renumbered."""
    from scrapersky.db.store import ScanState

    other = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    keys = [(TENANT, "one.test"), (TENANT, "two.test"), (other, "one.test")]
    base = datetime(2026, 12, 1, tzinfo=UTC)
    extra = {(TENANT, "two.test"): 4}  # pages q0, q1, … that a.xml lists besides
    batch = StoreBatch()
    for tenant, domain in keys:
        a, b = f"http://{domain}/a.xml", f"http://{domain}/b.xml"
        for url in (a, b):
            batch.add_file(
                SitemapFileItem(tenant, domain, url, "robots_txt", sitemap_type="urlset")
            )
        day1, day2 = base - timedelta(days=2), base - timedelta(days=1)
        first = [PageEntry(f"http://{domain}/p{i}", lastmod=day1) for i in range(3)]
        first += [PageEntry(f"http://{domain}/q{i}") for i in range(extra.get((tenant, domain), 0))]
        batch.add_pages(PageBatchItem(tenant, domain, a, first))
        again = [PageEntry(f"http://{domain}/p2", lastmod=day2), PageEntry(f"http://{domain}/p3")]
        batch.add_pages(PageBatchItem(tenant, domain, b, again))
    scans = {key: ScanState(stamp=base + timedelta(minutes=n)) for n, key in enumerate(keys)}
    listed = 4 * len(keys) + sum(extra.values())
    assert write_batch(database_url, batch, {}, scans) == listed
    with session_scope(database_url) as session:
        files = {f.id: f for f in session.scalars(select(SitemapFile))}
        pages = list(session.scalars(select(Page)))
        domains = {(d.tenant_id, d.domain): d.id for d in session.scalars(select(Domain))}
    assert len(pages) == listed
    for key in keys:
        domain = key[1]
        mine = {p.url: p for p in pages if p.domain_id == domains[key]}
        assert sorted(mine) == [f"http://{domain}/p{i}" for i in range(4)] + [
            f"http://{domain}/q{i}" for i in range(extra.get(key, 0))
        ]
        for url, page in mine.items():
            listed_by = "a.xml" if "/q" in url or url.endswith(("p0", "p1")) else "b.xml"
            assert files[page.sitemap_file_id].url == f"http://{domain}/{listed_by}"
            assert files[page.sitemap_file_id].domain_id == domains[key]
            assert _utc(page.first_seen_at) == _utc(page.last_seen_at) == scans[key].stamp
        assert _utc(mine[f"http://{domain}/p2"].lastmod) == base - timedelta(days=1)


def test_ids_of_thousands_of_domains_and_sitemaps_in_one_write(database_url):
    # One write may name thousands of domains (ends piled up while the database was slow) and
    # tens of thousands of sitemaps: a long list of (domain, URL) row values was too complex a
    # statement for PostgreSQL, and the whole write fell back to domain by domain.
    from scrapersky.db import bulk
    from scrapersky.db.engine import get_engine

    keys = [(TENANT, f"d{i}.test") for i in range(5000)] + [("other-tenant", "d0.test")]
    with get_engine(database_url).connect() as connection, connection.begin():
        domains = bulk.domain_rows(connection, keys)
        assert set(domains) == set(keys) and len({ident for ident, _ in domains.values()}) == len(
            keys
        )
        first, second = domains[keys[0]][0], domains[keys[1]][0]
        urls = [f"http://d.test/s/{i}.xml" for i in range(12_000)]
        ids = bulk.sitemap_files_of(connection, {first: urls, second: urls[:10]})
    assert len(ids[first]) == 12_000 and len(ids[second]) == 10
    assert not set(ids[first].values()) & set(ids[second].values())
