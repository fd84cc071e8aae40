"""Bulk writes of scan results. The only module with raw SQL, kept for COPY-class speed.

PostgreSQL: listed pages are COPY'd (CSV) into a temporary staging table, then merged with one
`INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE … IS DISTINCT FROM …`, so an unchanged rescan
rewrites nothing. psycopg2 runs ORM/Core upserts as a slow executemany (≈10× slower).
SQLite: one executemany upsert inside the flush's transaction.
Everything else (domains, sitemap files, fetched pages) is a handful of rows per scan and goes
through SQLAlchemy Core.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from scrapersky.db.models import Domain, Page, SitemapFile

# Columns a sitemap listing owns; page fetches own status_code/title/description/fetched_at.
LISTING_COLUMNS = ("lastmod", "changefreq", "priority", "alternates", "images", "news")
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
        # 304: the stored listing is still true; only record that we looked.
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


def listing_fields(sitemap_url: str, row: dict[str, Any]) -> tuple:
    """One listed page as the CSV fields upsert_listed_pages reads."""
    lastmod = row["lastmod"]
    return (
        sitemap_url, row["url"], lastmod.isoformat() if lastmod is not None else None, row["changefreq"],
        row["priority"], encode_json(row["alternates"]), encode_json(row["images"]), encode_json(row["news"]),
    )


def upsert_listed_pages(connection: Connection, domain_id: int, lines: list[str]) -> int:
    """Merge one domain's listed pages, given as CSV lines of listing_fields() rows. A URL may
    repeat: the last one wins. Returns the number of rows inserted or changed."""
    if connection.dialect.name == "postgresql":
        return _merge_pages_postgres(connection, domain_id, lines)
    return _merge_pages_sqlite(connection, domain_id, lines)


_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS stage_pages (
    sitemap_url text, url text, lastmod timestamptz, changefreq text, priority double precision,
    alternates jsonb, images jsonb, news jsonb, seq bigserial
) ON COMMIT DELETE ROWS
"""

_LISTING_CHANGED = " OR ".join(f"pages.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in LISTING_COLUMNS)
_LISTING_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in LISTING_COLUMNS)
_ALL_LISTED = f"domain_id, sitemap_file_id, url, {', '.join(LISTING_COLUMNS)}"

# DISTINCT ON: a URL listed twice in one flush is written once, the last listing winning (seq
# counts rows in COPY order). ORDER BY url: concurrent scans of one domain take row locks in the
# same order, so they never deadlock.
_PG_MERGE = f"""
INSERT INTO pages ({_ALL_LISTED})
SELECT DISTINCT ON (s.url) %(domain_id)s, f.id, s.url, s.{", s.".join(LISTING_COLUMNS)}
FROM stage_pages s
LEFT JOIN sitemap_files f ON f.domain_id = %(domain_id)s AND f.url = s.sitemap_url
ORDER BY s.url, s.seq DESC
ON CONFLICT (domain_id, url) DO UPDATE
SET sitemap_file_id = EXCLUDED.sitemap_file_id, {_LISTING_SET}
WHERE pages.sitemap_file_id IS DISTINCT FROM EXCLUDED.sitemap_file_id OR {_LISTING_CHANGED}
"""


def _merge_pages_postgres(connection: Connection, domain_id: int, lines: list[str]) -> int:
    data = io.BytesIO("".join(lines).encode())
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_STAGE_DDL)
        cursor.copy_expert(
            "COPY stage_pages (sitemap_url, url, lastmod, changefreq, priority, alternates, images, news) "
            "FROM STDIN WITH (FORMAT csv)", data, size=1 << 20,
        )
        cursor.execute(_PG_MERGE, {"domain_id": domain_id})
        changed = cursor.rowcount
        cursor.execute("TRUNCATE stage_pages")
    finally:
        cursor.close()
    return changed


_SQLITE_MERGE = f"""
INSERT INTO pages ({_ALL_LISTED})
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (domain_id, url) DO UPDATE
SET sitemap_file_id = excluded.sitemap_file_id, {_LISTING_SET.replace("EXCLUDED", "excluded")}
WHERE pages.sitemap_file_id IS NOT excluded.sitemap_file_id OR {
    " OR ".join(f"pages.{c} IS NOT excluded.{c}" for c in LISTING_COLUMNS)}
"""


def _merge_pages_sqlite(connection: Connection, domain_id: int, lines: list[str]) -> int:
    file_ids = dict(connection.execute(
        select(SitemapFile.url, SitemapFile.id).where(SitemapFile.domain_id == domain_id)
    ).all())
    latest = {fields[1]: fields for fields in csv.reader(lines)}  # a URL listed twice: the last wins
    rows = (
        (domain_id, file_ids.get(sitemap_url), url, _sqlite_time(lastmod), changefreq or None,
         float(priority) if priority else None, alternates or None, images or None, news or None)
        for sitemap_url, url, lastmod, changefreq, priority, alternates, images, news in latest.values()
    )
    dbapi = connection.connection.dbapi_connection
    cursor = dbapi.cursor()
    try:
        before = dbapi.total_changes
        cursor.executemany(_SQLITE_MERGE, rows)
        return dbapi.total_changes - before
    finally:
        cursor.close()


def _sqlite_time(value: str) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime type writes and reads back (UTC, no offset).
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def encode_json(value: Any) -> str | None:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False) if value else None
