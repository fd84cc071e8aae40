"""Bulk writes of scan results. The only module with raw SQL, kept for COPY-class speed.

PostgreSQL: listed pages are COPY'd (text format) into a temporary staging table, then merged with one
`INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE … IS DISTINCT FROM …`, so an unchanged rescan
rewrites nothing. psycopg2 runs ORM/Core upserts as a slow executemany (≈10× slower).
SQLite: one executemany upsert inside the flush's transaction.
Everything else (domains, sitemap files, fetched pages) is a handful of rows per scan and goes
through SQLAlchemy Core.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from scrapersky.db.models import Domain, Page, SitemapFile
from scrapersky.sitemaps import PageEntry

# Columns a sitemap listing owns; page fetches own status_code/title/description/fetched_at.
LISTING_COLUMNS = ("lastmod", "changefreq", "priority", "alternates", "images", "news", "videos")
DomainKey = tuple[str, str]  # (tenant_id, domain)


def _insert(connection: Connection, table):
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def domain_ids(connection: Connection, keys: Iterable[DomainKey]) -> dict[DomainKey, int]:
    """Ids of the given domains, creating bare rows for the ones not seen before."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = [{"tenant_id": t, "domain": d} for t, d in keys]
    connection.execute(_insert(connection, Domain).values(rows).on_conflict_do_nothing())
    found: dict[DomainKey, int] = {}
    for tenant, domain in keys:
        found[(tenant, domain)] = connection.execute(
            select(Domain.id).where(Domain.tenant_id == tenant, Domain.domain == domain)
        ).scalar_one()
    return found


def upsert_domain(connection: Connection, domain_id: int, values: dict[str, Any]) -> None:
    values = {k: v for k, v in values.items() if k in Domain.__table__.c}
    values["updated_at"] = datetime.now(UTC)
    connection.execute(Domain.__table__.update().where(Domain.id == domain_id).values(**values))


def ensure_sitemap_files(connection: Connection, pairs: Iterable[tuple[int, str]]) -> None:
    """Placeholder rows so pages can reference a sitemap before its own item arrives."""
    rows = [{"domain_id": d, "url": u} for d, u in sorted(set(pairs))]
    if rows:
        connection.execute(_insert(connection, SitemapFile).values(rows).on_conflict_do_nothing())


def upsert_sitemap_file(connection: Connection, domain_id: int, values: dict[str, Any]) -> None:
    values = dict(values)
    parent_url = values.pop("parent_url", None)
    unchanged = values.pop("unchanged", False)
    values = {k: v for k, v in values.items() if k in SitemapFile.__table__.c}
    values["domain_id"] = domain_id
    if parent_url:
        values["parent_id"] = (
            select(SitemapFile.id)
            .where(SitemapFile.domain_id == domain_id, SitemapFile.url == parent_url)
            .scalar_subquery()
        )
    if unchanged:
        # 304, or the same bytes as last time: the stored listing is still true; only record
        # that we looked.
        keep = {"status_code", "fetched_at"}
        update = {k: v for k, v in values.items() if k in keep}
    else:
        update = {k: v for k, v in values.items() if k not in {"domain_id", "url"}}
    stmt = _insert(connection, SitemapFile).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=["domain_id", "url"], set_=update)
    connection.execute(stmt)


def upsert_page_fetches(connection: Connection, domain_id: int, rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        values = {
            "domain_id": domain_id,
            "url": row["url"],
            "status_code": row.get("status_code"),
            "title": row.get("title"),
            "description": row.get("description"),
            "fetched_at": row.get("fetched_at"),
        }
        stmt = _insert(connection, Page).values(**values)
        update = {k: values[k] for k in ("status_code", "title", "description", "fetched_at")}
        connection.execute(stmt.on_conflict_do_update(index_elements=["domain_id", "url"], set_=update))


# --- listed pages ---------------------------------------------------------------------------
#
# A listed page travels as one line of PostgreSQL's COPY text format, made on the reactor thread
# when its item arrives (compact, and no per-row Python work is left for the writer thread):
#   sitemap key, url, lastmod, changefreq, priority, alternates, images, news, videos
# The sitemap key numbers the batch's sitemap files of that domain from 1; the writer turns
# keys into sitemap_files ids, so no sitemap URL is repeated on every line. lastmod is in
# microseconds since the Unix epoch: exact, and several times cheaper to make than ISO text.

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_UNESCAPES = re.compile(r"\\(.)")
_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
NULL = "\\N"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)
MICROSECOND = timedelta(microseconds=1)


def _copy_text(value: str) -> str:
    # isprintable() is False for tab, newline and carriage return; it is the cheapest first test.
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_COPY_ESCAPES)


_NO_EXTRAS = f"{NULL}\t{NULL}\t{NULL}\t{NULL}"


def listing_line(sitemap_key: int, entry: PageEntry) -> str:
    """One listed page as a line of COPY text (see above). Runs once per listed URL: inlined."""
    url, lastmod, priority = entry.url, entry.lastmod, entry.priority
    if not url.isprintable() or "\\" in url:
        url = url.translate(_COPY_ESCAPES)
    extras = _NO_EXTRAS
    if entry.alternates or entry.images or entry.news or entry.videos:
        extras = "\t".join(_copy_text(encode_json(v)) if v else NULL
                           for v in (entry.alternates, entry.images, entry.news, entry.videos))
    return (
        f"{sitemap_key}\t{url}\t{NULL if lastmod is None else (lastmod - EPOCH) // MICROSECOND}\t"
        f"{entry.changefreq or NULL}\t{NULL if priority is None else repr(priority)}\t{extras}\n"
    )


def read_listing_line(line: str) -> list[str | None]:
    """The fields of a listing_line(), NULL as None."""
    return [None if field == NULL else (_COPY_UNESCAPES.sub(_unescape, field) if "\\" in field else field)
            for field in line[:-1].split("\t")]


def _unescape(match: re.Match) -> str:
    return _UNESCAPED.get(match.group(1), match.group(1))


def sitemap_file_ids(connection: Connection, domain_id: int, urls: Iterable[str]) -> dict[str, int]:
    urls = list(urls)
    rows = connection.execute(
        select(SitemapFile.url, SitemapFile.id).where(SitemapFile.domain_id == domain_id, SitemapFile.url.in_(urls))
    )
    return dict(rows.all())


def upsert_listed_pages(connection: Connection, domain_id: int, lines: list[str], file_ids: Sequence[int]) -> int:
    """Merge one domain's listed pages, given as listing_line()s whose sitemap key k stands for
    file_ids[k - 1]. A URL may repeat: the last one wins. Returns the rows inserted or changed."""
    if connection.dialect.name == "postgresql":
        return _merge_pages_postgres(connection, domain_id, lines, file_ids)
    return _merge_pages_sqlite(connection, domain_id, lines, file_ids)


_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS stage_pages (
    sitemap_key integer, url text COLLATE "C", lastmod_us bigint, changefreq text, priority double precision,
    alternates jsonb, images jsonb, news jsonb, videos jsonb, seq bigserial
) ON COMMIT DELETE ROWS
"""

_LISTING_CHANGED = " OR ".join(f"pages.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in LISTING_COLUMNS)
_LISTING_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in LISTING_COLUMNS)
_ALL_LISTED = f"domain_id, sitemap_file_id, url, {', '.join(LISTING_COLUMNS)}"

# DISTINCT ON: a URL listed twice in one flush is written once, the last listing winning (seq
# counts rows in COPY order). ORDER BY url: rows reach the unique index in its own order (far
# fewer page reads), and concurrent scans of one domain take row locks in the same order, so
# they never deadlock. url sorts in the "C" collation, as pages.url is declared.
_PG_MERGE = f"""
INSERT INTO pages ({_ALL_LISTED})
SELECT DISTINCT ON (s.url) %(domain_id)s, (%(file_ids)s::bigint[])[s.sitemap_key], s.url,
       timestamptz 'epoch' + s.lastmod_us * interval '1 microsecond',
       s.changefreq, s.priority, s.alternates, s.images, s.news, s.videos
FROM stage_pages s
ORDER BY s.url, s.seq DESC
ON CONFLICT (domain_id, url) DO UPDATE
SET sitemap_file_id = EXCLUDED.sitemap_file_id, {_LISTING_SET}
WHERE pages.sitemap_file_id IS DISTINCT FROM EXCLUDED.sitemap_file_id OR {_LISTING_CHANGED}
"""
# Enough memory for one flush's sort (SCRAPERSKY_STORE_BUFFER rows) to stay off disk.
_MERGE_WORK_MEM = "SET LOCAL work_mem = '64MB'"


def _merge_pages_postgres(connection: Connection, domain_id: int, lines: list[str], file_ids: Sequence[int]) -> int:
    data = io.BytesIO("".join(lines).encode())
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_STAGE_DDL)
        cursor.execute(_MERGE_WORK_MEM)
        cursor.copy_expert(
            "COPY stage_pages (sitemap_key, url, lastmod_us, changefreq, priority, alternates, images, news, videos) "
            "FROM STDIN", data, size=1 << 20,
        )
        cursor.execute(_PG_MERGE, {"domain_id": domain_id, "file_ids": list(file_ids)})
        changed = cursor.rowcount
        cursor.execute("TRUNCATE stage_pages")
    finally:
        cursor.close()
    return changed


_SQLITE_MERGE = f"""
INSERT INTO pages ({_ALL_LISTED})
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (domain_id, url) DO UPDATE
SET sitemap_file_id = excluded.sitemap_file_id, {_LISTING_SET.replace("EXCLUDED", "excluded")}
WHERE pages.sitemap_file_id IS NOT excluded.sitemap_file_id OR {
    " OR ".join(f"pages.{c} IS NOT excluded.{c}" for c in LISTING_COLUMNS)}
"""


def _merge_pages_sqlite(connection: Connection, domain_id: int, lines: list[str], file_ids: Sequence[int]) -> int:
    latest = {}
    for line in lines:  # a URL listed twice: the last wins
        fields = read_listing_line(line)
        latest[fields[1]] = fields
    rows = (
        (domain_id, file_ids[int(key) - 1], url, _sqlite_time(lastmod), changefreq,
         float(priority) if priority is not None else None, alternates, images, news, videos)
        for key, url, lastmod, changefreq, priority, alternates, images, news, videos in latest.values()
    )
    dbapi = connection.connection.dbapi_connection
    cursor = dbapi.cursor()
    try:
        before = dbapi.total_changes
        cursor.executemany(_SQLITE_MERGE, rows)
        return dbapi.total_changes - before
    finally:
        cursor.close()


def _sqlite_time(microseconds: str | None) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime type writes and reads back (UTC, no offset).
    if microseconds is None:
        return None
    return (NAIVE_EPOCH + int(microseconds) * MICROSECOND).isoformat(" ", "microseconds")


def encode_json(value: Any) -> str | None:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False) if value else None
