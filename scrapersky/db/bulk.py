"""Bulk writes of scan results. The only module with raw SQL, kept for COPY-class speed.

PostgreSQL: listed pages are COPY'd (text format) into a temporary staging table, then merged with one
`INSERT … SELECT … ON CONFLICT DO UPDATE … WHERE … IS DISTINCT FROM …`, so an unchanged rescan
rewrites nothing. psycopg2 runs ORM/Core upserts as a slow executemany (≈10× slower).
SQLite: one executemany upsert inside the flush's transaction.
A rescan's merge also records what it changed (scan_changes) and which URLs it listed
(scan_seen, a temporary table of the writer's connection), in the same statement on PostgreSQL;
see scrapersky.db.store for how removals are decided from them.
Everything else (domains, sitemap files, fetched pages) is a handful of rows per scan and goes
through SQLAlchemy Core.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Update,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from scrapersky.core.clock import now
from scrapersky.db.models import LISTING_COLUMNS, Base, Domain, Page, ScanChange, SitemapFile
from scrapersky.sitemaps import PageEntry

if TYPE_CHECKING:
    import sqlite3

DomainKey = tuple[str, str]  # (tenant_id, domain)


def _insert(connection: Connection, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    return _dialect_insert(connection.dialect.name, model)


def _dialect_insert(dialect: str, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# The statements a scan runs for every domain are built once per dialect (and shape) and run
# with parameters, so SQLAlchemy finds each compiled in its cache instead of compiling a new
# one per domain (a VALUES list of another length, or new literals, is another statement), and
# a list of rows goes as one multi-row INSERT (SQLAlchemy's insertmanyvalues). SQLAlchemy
# batches an INSERT … ON CONFLICT only when it has a RETURNING clause (without one, psycopg2
# would run it row by row): the upserts below return the rows' ids, which callers may ignore.
# A multi-row ON CONFLICT DO UPDATE must not name one row twice: callers give distinct keys.
@cache
def _add_missing(dialect: str, model: type[Base]) -> ReturningInsert[Any]:
    """INSERT of rows that are not there yet (ON CONFLICT DO NOTHING)."""
    return (
        _dialect_insert(dialect, model)
        .on_conflict_do_nothing()
        .returning(*model.__table__.primary_key)
    )


def domain_rows(
    connection: Connection, keys: Iterable[DomainKey]
) -> dict[DomainKey, tuple[int, bool]]:
    """Per domain: its id, and whether a scan of it finished before (if not, this scan is its
    baseline). Bare rows are made for the domains not seen before. Two statements for any
    number of domains."""
    keys = sorted(set(keys))
    found: dict[DomainKey, tuple[int, bool]] = {}
    # Two statements per _IN_LIST keys; two IN lists, the pairs kept in Python (sitemap_files_of).
    for part in chunks(keys, _IN_LIST[connection.dialect.name] // 2):
        rows = [{"tenant_id": t, "domain": d} for t, d in part]
        connection.execute(_add_missing(connection.dialect.name, Domain), rows)
        wanted = set(part)
        for tenant, domain, ident, before in connection.execute(
            select(Domain.tenant_id, Domain.domain, Domain.id, Domain.last_scan.is_not(None)).where(
                Domain.tenant_id.in_({t for t, _ in part}), Domain.domain.in_({d for _, d in part})
            )
        ):
            if (tenant, domain) in wanted:
                found[(tenant, domain)] = (ident, bool(before))
    return found


@cache
def _domain_update(columns: tuple[str, ...]) -> Update:
    """UPDATE of a domain's row: these columns from parameters named v_COLUMN, and its counts of
    listed pages and of sitemaps from the stored rows."""
    table = Domain.__table__
    domain_id = bindparam("b_domain_id", type_=table.c.id.type)
    listed = select(func.count()).select_from(Page)
    files = select(func.count()).select_from(SitemapFile)
    values: dict[str, Any] = {
        name: bindparam(f"v_{name}", type_=table.c[name].type) for name in columns
    }
    values["sitemap_urls"] = listed.where(
        Page.domain_id == domain_id, Page.removed_at.is_(None)
    ).scalar_subquery()
    values["total_sitemaps"] = files.where(
        SitemapFile.domain_id == domain_id,
        SitemapFile.sitemap_type.is_not(None),
        SitemapFile.removed_at.is_(None),
    ).scalar_subquery()
    return (
        update(Domain)
        .where(Domain.id == domain_id)
        .values(values)
        .returning(Domain.sitemap_urls, Domain.total_sitemaps)
    )


def upsert_domain(
    connection: Connection, domain_id: int, values: dict[str, Any]
) -> tuple[int, int]:
    """Write a domain's row, with its counts of listed pages and of sitemaps taken from the stored
    rows in the same statement (true whatever the scan saw twice); returns the two counts."""
    columns = Domain.__table__.c
    values = {k: v for k, v in values.items() if k in columns and k not in _COUNTED}
    values["updated_at"] = now()
    statement = _domain_update(tuple(sorted(values)))
    parameters = {f"v_{name}": value for name, value in values.items()}
    counts = connection.execute(statement, {"b_domain_id": domain_id, **parameters}).one()
    return counts[0], counts[1]


_COUNTED = ("sitemap_urls", "total_sitemaps")  # set from the stored rows, never from a value


def sitemap_files(connection: Connection, domain_id: int, urls: Iterable[str]) -> dict[str, int]:
    """Ids of these sitemap files of the domain by URL, making a placeholder row for each one not
    stored yet, so that pages and child sitemaps can name a sitemap before its own item comes."""
    return sitemap_files_of(connection, {domain_id: urls})[domain_id]


def sitemap_files_of(
    connection: Connection, names: Mapping[int, Iterable[str]]
) -> dict[int, dict[str, int]]:
    """sitemap_files for several domains at once (domain id -> its URLs): two statements per
    _IN_LIST pairs, whatever the number of domains, in (domain, URL) order."""
    pairs = sorted({(domain_id, url) for domain_id, urls in names.items() for url in urls})
    ids: dict[int, dict[str, int]] = {domain_id: {} for domain_id in names}
    size = _IN_LIST[connection.dialect.name] // 2
    for part in chunks(pairs, size):
        rows = [{"domain_id": domain_id, "url": url} for domain_id, url in part]
        connection.execute(_add_missing(connection.dialect.name, SitemapFile), rows)
        # Domains and URLs as two IN lists, the pairs kept in Python: PostgreSQL plans a long
        # list of row values as one OR per pair and runs out of stack at a few thousand.
        found = connection.execute(
            select(SitemapFile.domain_id, SitemapFile.url, SitemapFile.id).where(
                SitemapFile.domain_id.in_({domain_id for domain_id, _ in part}),
                SitemapFile.url.in_({url for _, url in part}),
            )
        )
        wanted = set(part)
        for domain_id, url, ident in found:
            if (domain_id, url) in wanted:
                ids[domain_id][url] = ident
    return ids


def insert_sitemap_files_of(
    connection: Connection,
    files: Mapping[int, Sequence[dict[str, Any]]],
    ids: Mapping[int, Mapping[str, int]],
    stamps: Mapping[int, datetime | None],
) -> None:
    """upsert_sitemap_files without `compare` (first scans: no change is recorded) for several
    domains at once (each with its scan's stamp), one statement per kind of row; each domain's
    files have distinct URLs."""
    groups: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for domain_id in sorted(files):
        for values in files[domain_id]:
            row, unchanged = _sitemap_row(domain_id, values, stamps[domain_id], ids[domain_id])
            groups.setdefault((unchanged, tuple(row)), []).append(row)
    for (unchanged, columns), rows in groups.items():
        connection.execute(_sitemap_upsert(connection.dialect.name, columns, unchanged), rows)


def record_changes(
    connection: Connection,
    domain_id: int,
    job_pk: int | None,
    stamp: datetime,
    changes: Sequence[dict[str, Any]],
) -> None:
    """scan_changes rows: each change a dict of kind, subject, old, new."""
    if changes:
        connection.execute(
            insert(ScanChange),
            [{"domain_id": domain_id, "job_id": job_pk, "changed_at": stamp, **c} for c in changes],
        )


# What a sitemap change is recorded with.
SITEMAP_FIELDS = (
    "sitemap_type",
    "url_count",
    "size_bytes",
    "status_code",
    "error_message",
    "content_digest",
)


def _sitemap_row(
    domain_id: int, values: dict[str, Any], stamp: datetime | None, ids: Mapping[str, int]
) -> tuple[dict[str, Any], bool]:
    """A sitemap file item as its row, and whether it was found unchanged (304, or the same bytes
    as last time: the stored listing is still true, and only the look is recorded)."""
    values = dict(values)
    parent_url = values.pop("parent_url", None)
    unchanged = bool(values.pop("unchanged", False))
    confirmed = values.pop("complete", False) or unchanged
    row = {k: v for k, v in values.items() if k in SitemapFile.__table__.c}
    row.update(
        domain_id=domain_id,
        removed_at=None,
        confirmed_at=stamp if confirmed else None,
        parent_id=ids[parent_url] if parent_url else None,
    )
    return row, unchanged


_UNCHANGED_SET = ("status_code", "fetched_at", "confirmed_at", "removed_at")


@cache
def _sitemap_upsert(
    dialect: str, columns: tuple[str, ...], unchanged: bool
) -> ReturningInsert[int]:
    """The upsert of sitemap file rows with these columns; of one found unchanged, only the
    time it was looked at and confirmed."""
    stmt = _dialect_insert(dialect, SitemapFile)
    names = _UNCHANGED_SET if unchanged else [k for k in columns if k not in ("domain_id", "url")]
    changes: dict[str, Any] = {name: stmt.excluded[name] for name in names}
    # A file not read completely keeps the time it last was; one named without a parent keeps
    # the parent it had.
    stored = SitemapFile.__table__.c
    changes["confirmed_at"] = func.coalesce(stmt.excluded.confirmed_at, stored.confirmed_at)
    if not unchanged:
        changes["parent_id"] = func.coalesce(stmt.excluded.parent_id, stored.parent_id)
    return stmt.on_conflict_do_update(index_elements=["domain_id", "url"], set_=changes).returning(
        SitemapFile.id
    )


def upsert_sitemap_files(
    connection: Connection,
    domain_id: int,
    files: Sequence[dict[str, Any]],
    ids: Mapping[str, int],
    stamp: datetime | None = None,
    *,
    compare: bool = True,
) -> list[dict[str, Any]]:
    """Write a domain's sitemap file rows (`ids`: sitemap_files(), naming their parents); returns
    the changes they make to the domain's sitemaps, when `compare` (a rescan).

    Without `compare` (a first scan, which records no change) the files go in one statement per
    kind (read, found unchanged); with it, one by one, each compared with its row as it was."""
    if not compare and len({values["url"] for values in files}) == len(files):
        insert_sitemap_files_of(
            connection, {domain_id: files}, {domain_id: ids}, {domain_id: stamp}
        )
        return []
    built = [_sitemap_row(domain_id, values, stamp, ids) for values in files]
    found = []
    files_table = SitemapFile.__table__
    for row, unchanged in built:
        before = connection.execute(
            select(
                *[files_table.c[n] for n in SITEMAP_FIELDS],
                files_table.c.fetched_at,
                files_table.c.removed_at,
            )
            .where(files_table.c.domain_id == domain_id, files_table.c.url == row["url"])
            .with_for_update()  # a concurrent scan of the domain writing this row: compare with what it wrote
        ).first()
        connection.execute(_sitemap_upsert(connection.dialect.name, tuple(row), unchanged), [row])
        change = _sitemap_change(row, before, unchanged)
        if change is not None:
            found.append(change)
    return found


def _sitemap_change(
    values: dict[str, Any], before: Row[*tuple[Any, ...]] | None, unchanged: bool
) -> dict[str, Any] | None:
    url = values["url"]
    if before is None or before.fetched_at is None or before.removed_at is not None:
        # New (or back): worth a line once it was actually read.
        if values.get("status_code") in (200, 304) and (unchanged or values.get("sitemap_type")):
            return {
                "kind": "sitemap_added",
                "subject": url,
                "old": None,
                "new": {name: values.get(name) for name in ("sitemap_type", "url_count")},
            }
        return None
    if unchanged:
        return None
    differ = [name for name in SITEMAP_FIELDS if getattr(before, name) != values.get(name)]
    if not differ:
        return None
    return {
        "kind": "sitemap_changed",
        "subject": url,
        "old": {name: getattr(before, name) for name in differ},
        "new": {name: values.get(name) for name in differ},
    }


def upsert_page_fetches(
    connection: Connection, domain_id: int, rows: Sequence[dict[str, Any]]
) -> None:
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
        connection.execute(
            stmt.on_conflict_do_update(index_elements=["domain_id", "url"], set_=update)
        )


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
        extras = "\t".join(
            _copy_text(_encode_json(v)) if v else NULL
            for v in (entry.alternates, entry.images, entry.news, entry.videos)
        )
    return (
        f"{sitemap_key}\t{url}\t{NULL if lastmod is None else (lastmod - EPOCH) // MICROSECOND}\t"
        f"{entry.changefreq or NULL}\t{NULL if priority is None else repr(priority)}\t{extras}\n"
    )


def read_listing_line(line: str) -> tuple[int, str, list[str | None]]:
    """The sitemap key, the URL and the listing fields of a listing_line(), NULL as None."""
    key, url, *listing = line[:-1].split("\t")
    return (
        int(key),
        _COPY_UNESCAPES.sub(_unescape, url) if "\\" in url else url,
        [
            None
            if field == NULL
            else (_COPY_UNESCAPES.sub(_unescape, field) if "\\" in field else field)
            for field in listing
        ],
    )


def _unescape(match: re.Match[str]) -> str:
    escaped: str = match.group(1)
    return _UNESCAPED.get(escaped, escaped)


def sitemap_file_ids(connection: Connection, domain_id: int, urls: Iterable[str]) -> dict[str, int]:
    urls = list(urls)
    rows = connection.execute(
        select(SitemapFile.url, SitemapFile.id).where(
            SitemapFile.domain_id == domain_id, SitemapFile.url.in_(urls)
        )
    )
    return dict(rows.all())


def upsert_listed_pages(
    connection: Connection,
    domain_id: int,
    lines: list[str],
    file_ids: Sequence[int],
    stamp: datetime | None = None,
    *,
    rescan: bool = False,
    job_pk: int | None = None,
) -> int:
    """Merge one domain's listed pages, given as listing_line()s whose sitemap key k stands for
    file_ids[k - 1]. A URL may repeat: the last one wins. Returns the rows inserted or changed.

    Rows written get last_seen_at = stamp, and first_seen_at when new or only fetched before (a
    listed page fetched for its title can be stored before its sitemap's rows); a removed URL listed again
    is listed once more. On a rescan the URLs also go to scan_seen and every added or changed
    listing to scan_changes."""
    stamp = stamp or now()
    if connection.dialect.name == "postgresql":
        return _merge_pages_postgres(connection, domain_id, lines, file_ids, stamp, rescan, job_pk)
    return _merge_pages_sqlite(connection, domain_id, lines, file_ids, stamp, rescan, job_pk)


# A first scan's listed pages: its domain id, its listing_line()s, the file ids their sitemap
# keys stand for (as upsert_listed_pages takes them) and its scan's time.
FirstListing = tuple[int, list[str], Sequence[int], datetime]


def upsert_first_listings(connection: Connection, listings: Sequence[FirstListing]) -> int:
    """upsert_listed_pages of several first scans at once: on PostgreSQL one COPY and one merge
    for all of them, instead of a COPY, a merge and a TRUNCATE a domain (a batch's small sites
    end a few at a time, and those three statements were half of the database's time). Returns
    the rows inserted or changed."""
    if connection.dialect.name != "postgresql" or len(listings) < 2:
        # One domain (a large site's writes) keeps its own merge, its id and time constants.
        return sum(
            upsert_listed_pages(connection, domain_id, lines, file_ids, stamp)
            for domain_id, lines, file_ids, stamp in listings
        )
    domain_ids: list[int] = []
    all_file_ids: list[int] = []
    stamps: list[datetime] = []
    text: list[str] = []
    # The longest first: its lines go in as they are. (The merge sorts the rows itself.)
    for domain_id, lines, file_ids, stamp in sorted(listings, key=lambda listing: -len(listing[1])):
        # Sitemap keys number each domain's files from 1: those of the later domains move past
        # the keys before them, so one key stands for one domain's file in the merge.
        offset = len(all_file_ids)
        if offset:
            text.extend([_moved_key(line, offset) for line in lines])
        else:
            text.extend(lines)
        all_file_ids.extend(file_ids)
        domain_ids.extend([domain_id] * len(file_ids))
        stamps.extend([stamp] * len(file_ids))
    params = {"domain_ids": domain_ids, "file_ids": all_file_ids, "stamps": stamps}
    return _stage_and_run(connection, text, _PG_MERGE_FIRST, params)


def _moved_key(line: str, offset: int) -> str:
    key, rest = line.split("\t", 1)
    return f"{int(key) + offset}\t{rest}"


_STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS stage_pages (
    sitemap_key integer, url text COLLATE "C", lastmod_us bigint, changefreq text, priority double precision,
    alternates jsonb, images jsonb, news jsonb, videos jsonb, seq bigserial
) ON COMMIT DELETE ROWS
"""
# Kept for the connection's life (the writer keeps one connection per run): a scan's listed URLs.
_SEEN_DDL = {
    "postgresql": 'CREATE TEMP TABLE IF NOT EXISTS scan_seen (domain_id bigint, url text COLLATE "C")',
    "sqlite": "CREATE TEMP TABLE IF NOT EXISTS scan_seen (domain_id integer, url text)",
}
_SEEN_INDEX = (
    "CREATE INDEX IF NOT EXISTS temp.scan_seen_url ON scan_seen (domain_id, url)"  # SQLite
)
SCAN_SEEN = table("scan_seen", column("domain_id"), column("url"))

_LISTING_CHANGED = " OR ".join(f"pages.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in LISTING_COLUMNS)
_LISTING_SET = ", ".join(f"{c} = EXCLUDED.{c}" for c in LISTING_COLUMNS)
_ALL_LISTED = (
    f"domain_id, sitemap_file_id, url, {', '.join(LISTING_COLUMNS)}, first_seen_at, last_seen_at"
)
_UPSERT_PG = f"""
ON CONFLICT (domain_id, url) DO UPDATE
SET sitemap_file_id = EXCLUDED.sitemap_file_id, {_LISTING_SET}, last_seen_at = EXCLUDED.last_seen_at,
    first_seen_at = COALESCE(pages.first_seen_at, EXCLUDED.first_seen_at), removed_at = NULL
WHERE pages.removed_at IS NOT NULL OR pages.sitemap_file_id IS DISTINCT FROM EXCLUDED.sitemap_file_id
   OR {_LISTING_CHANGED}
"""
_LISTED_PG = """
SELECT DISTINCT ON (s.url) (%(file_ids)s::bigint[])[s.sitemap_key] AS sitemap_file_id, s.url,
       timestamptz 'epoch' + s.lastmod_us * interval '1 microsecond' AS lastmod,
       s.changefreq, s.priority, s.alternates, s.images, s.news, s.videos
FROM stage_pages s
ORDER BY s.url, s.seq DESC
"""

# DISTINCT ON: a URL listed twice in one flush is written once, the last listing winning (seq
# counts rows in COPY order). ORDER BY url: rows reach the unique index in its own order (far
# fewer page reads), and concurrent scans of one domain take row locks in the same order, so
# they never deadlock. url sorts in the "C" collation, as pages.url is declared.
_PG_MERGE = f"""
INSERT INTO pages ({_ALL_LISTED})
SELECT %(domain_id)s, l.*, %(stamp)s, %(stamp)s FROM ({_LISTED_PG}) l
{_UPSERT_PG}
"""
# _PG_MERGE for several domains (upsert_first_listings): a sitemap key also names the domain
# and its scan's time. Rows reach the unique index in its (domain, URL) order.
_PG_MERGE_FIRST = f"""
INSERT INTO pages ({_ALL_LISTED})
SELECT l.domain_id, l.sitemap_file_id, l.url, {", ".join(f"l.{c}" for c in LISTING_COLUMNS)},
       l.stamp, l.stamp
FROM (
    SELECT DISTINCT ON (domain_id, s.url)
           (%(domain_ids)s::bigint[])[s.sitemap_key] AS domain_id,
           (%(file_ids)s::bigint[])[s.sitemap_key] AS sitemap_file_id, s.url,
           timestamptz 'epoch' + s.lastmod_us * interval '1 microsecond' AS lastmod,
           s.changefreq, s.priority, s.alternates, s.images, s.news, s.videos,
           (%(stamps)s::timestamptz[])[s.sitemap_key] AS stamp
    FROM stage_pages s
    ORDER BY domain_id, s.url, s.seq DESC
) l
{_UPSERT_PG}
"""

_OLD_DIFFERS = " OR ".join(f"d.old_{c} IS DISTINCT FROM d.{c}" for c in LISTING_COLUMNS)
_UNCHANGED_NAMES = ", ".join(
    f"CASE WHEN d.old_{c} IS NOT DISTINCT FROM d.{c} THEN '{c}' END" for c in LISTING_COLUMNS
)


# Listed again after an earlier scan removed it. A page this scan removed (a sitemap read by a
# diff stopped listing it) and lists again (another sitemap lists it) was moved: its removal is
# taken out of the history (the moved CTE) and only a changed listing is recorded.
_BACK = "(d.old_removed_at IS NOT NULL AND d.old_removed_at <> %(stamp)s)"


def _json_of(prefix: str) -> str:
    return "jsonb_build_object(" + ", ".join(f"'{c}', d.{prefix}{c}" for c in LISTING_COLUMNS) + ")"


# A rescan's merge, one statement: the listed URLs go to scan_seen; the rows whose listing is
# new, changed or back are found with their stored values (LIMIT 1 keeps the lookup a per-row
# index probe: the planner cannot turn it into a join over all of the domain's pages), upserted,
# and what the upsert actually changed goes to scan_changes. All parts see one snapshot, so the
# old values are the ones before this statement; a concurrent scan that made the same change
# first leaves nothing for this one to change or record.
_PG_RESCAN = f"""
WITH listed AS MATERIALIZED ({_LISTED_PG}),
seen AS (INSERT INTO scan_seen (domain_id, url) SELECT %(domain_id)s, url FROM listed),
differing AS MATERIALIZED (
    SELECT l.*, p.id AS old_id, p.removed_at AS old_removed_at, p.sitemap_file_id AS old_sitemap_file_id,
           {", ".join(f"p.{c} AS old_{c}" for c in LISTING_COLUMNS)}
    FROM listed l
    LEFT JOIN LATERAL (SELECT * FROM pages WHERE pages.domain_id = %(domain_id)s AND pages.url = l.url LIMIT 1) p
           ON true
    WHERE p.id IS NULL OR p.removed_at IS NOT NULL OR p.sitemap_file_id IS DISTINCT FROM l.sitemap_file_id
       OR {" OR ".join(f"p.{c} IS DISTINCT FROM l.{c}" for c in LISTING_COLUMNS)}
),
written AS (
    INSERT INTO pages ({_ALL_LISTED})
    SELECT %(domain_id)s, sitemap_file_id, url, {", ".join(LISTING_COLUMNS)}, %(stamp)s, %(stamp)s
    FROM differing ORDER BY url
    {_UPSERT_PG}
    RETURNING url
),
history AS (
    INSERT INTO scan_changes (domain_id, job_id, changed_at, kind, subject, old, new)
    SELECT %(domain_id)s, %(job_pk)s, %(stamp)s,
           CASE WHEN d.old_id IS NULL OR {_BACK} THEN 'page_added' ELSE 'page_changed' END,
           d.url,
           CASE WHEN d.old_id IS NULL THEN NULL
                WHEN {_BACK} THEN jsonb_build_object('removed_at', d.old_removed_at)
                ELSE {_json_of("old_")} - array_remove(ARRAY[{_UNCHANGED_NAMES}], NULL) END,
           CASE WHEN d.old_id IS NULL OR {_BACK} THEN jsonb_strip_nulls({_json_of("")})
                ELSE {_json_of("")} - array_remove(ARRAY[{_UNCHANGED_NAMES}], NULL) END
    FROM differing d JOIN written w ON w.url = d.url
    WHERE d.old_id IS NULL OR {_BACK} OR {_OLD_DIFFERS}
),
moved AS (
    DELETE FROM scan_changes c USING differing d, written w
    WHERE w.url = d.url AND d.old_removed_at = %(stamp)s AND c.domain_id = %(domain_id)s
      AND c.changed_at = %(stamp)s AND c.kind = 'page_removed' AND c.subject = d.url COLLATE "C"
)
SELECT count(*) FROM written
"""
# Enough memory for one flush's sort (SCRAPERSKY_STORE_BUFFER rows) to stay off disk; JSON
# timestamps in UTC, as on SQLite.
_MERGE_SETTINGS = "SET LOCAL work_mem = '64MB'; SET LOCAL TimeZone = 'UTC'"


def _merge_pages_postgres(
    connection: Connection,
    domain_id: int,
    lines: list[str],
    file_ids: Sequence[int],
    stamp: datetime,
    rescan: bool,
    job_pk: int | None,
) -> int:
    params = {"domain_id": domain_id, "file_ids": list(file_ids), "stamp": stamp, "job_pk": job_pk}
    if rescan:
        return _stage_and_run(connection, lines, _PG_RESCAN, params, counted=True)
    return _stage_and_run(connection, lines, _PG_MERGE, params)


def _stage_and_run(
    connection: Connection,
    lines: Iterable[str],
    merge: str,
    params: dict[str, Any],
    *,
    counted: bool = False,
) -> int:
    """COPY the lines into the staging table, run the merge, empty the table for the next;
    returns the rows the merge wrote: its rowcount, or the count it selects when `counted`."""
    import psycopg2.extensions  # loaded already: the connection is psycopg2's

    data = io.BytesIO("".join(lines).encode())
    pg = connection.connection.driver_connection
    assert isinstance(pg, psycopg2.extensions.connection)
    cursor = pg.cursor()
    try:
        cursor.copy_expert(
            "COPY stage_pages (sitemap_key, url, lastmod_us, changefreq, priority, alternates, images, news, videos) "
            "FROM STDIN",
            data,
            size=1 << 20,
        )
        cursor.execute(merge, params)
        if counted:
            row = cursor.fetchone()
            assert row is not None  # SELECT count(*): one row
            changed: int = row[0]
        else:
            changed = cursor.rowcount
        cursor.execute("TRUNCATE stage_pages")
    finally:
        cursor.close()
    return changed


_SQLITE_MERGE = f"""
INSERT INTO pages ({_ALL_LISTED})
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (domain_id, url) DO UPDATE
SET sitemap_file_id = excluded.sitemap_file_id, {_LISTING_SET.replace("EXCLUDED", "excluded")},
    last_seen_at = excluded.last_seen_at,
    first_seen_at = COALESCE(pages.first_seen_at, excluded.first_seen_at), removed_at = NULL
WHERE pages.removed_at IS NOT NULL OR pages.sitemap_file_id IS NOT excluded.sitemap_file_id OR {
    " OR ".join(f"pages.{c} IS NOT excluded.{c}" for c in LISTING_COLUMNS)
}
"""
_SQLITE_STORED = (
    f"SELECT url, sitemap_file_id, {', '.join(LISTING_COLUMNS)}, removed_at FROM pages "
    "WHERE domain_id = ? AND url IN ({})"
)
URLS_PER_STATEMENT = 500  # URLs looked up per statement on SQLite (its bound-parameter limit)
# A listed page's row as SQLite stores it: sitemap_file_id, then the LISTING_COLUMNS (lastmod as
# SQLAlchemy's DateTime text, the JSON columns as JSON text).
_SqliteListing = tuple[
    int, str | None, str | None, float | None, str | None, str | None, str | None, str | None
]


def _merge_pages_sqlite(
    connection: Connection,
    domain_id: int,
    lines: list[str],
    file_ids: Sequence[int],
    stamp: datetime,
    rescan: bool,
    job_pk: int | None,
) -> int:
    latest: dict[str, tuple[int, list[str | None]]] = {}
    for line in lines:  # a URL listed twice: the last wins
        key, url, listing = read_listing_line(line)
        latest[url] = (key, listing)
    when = _sqlite_stamp(stamp)
    rows = {
        url: (
            file_ids[key - 1],
            _sqlite_time(lastmod),
            changefreq,
            float(priority) if priority is not None else None,
            alternates,
            images,
            news,
            videos,
        )
        for url, (key, (lastmod, changefreq, priority, alternates, images, news, videos)) in (
            latest.items()
        )
    }
    import sqlite3  # loaded already: the connection is sqlite3's

    dbapi = connection.connection.driver_connection
    assert isinstance(dbapi, sqlite3.Connection)
    cursor = dbapi.cursor()
    try:
        history: list[dict[str, Any]] = []
        moved: list[str] = []
        if rescan:
            rows, history, moved = _sqlite_differing(cursor, domain_id, rows, when)
        before = dbapi.total_changes
        cursor.executemany(
            _SQLITE_MERGE,
            ((domain_id, row[0], url, *row[1:], when, when) for url, row in rows.items()),
        )
        changed = dbapi.total_changes - before
    finally:
        cursor.close()
    record_changes(connection, domain_id, job_pk, stamp, history)
    for chunk in chunks(moved, URLS_PER_STATEMENT):
        connection.execute(
            delete(ScanChange).where(
                ScanChange.domain_id == domain_id,
                ScanChange.changed_at == stamp,
                ScanChange.kind == "page_removed",
                ScanChange.subject.in_(chunk),
            )
        )
    return changed


def _sqlite_differing(
    cursor: sqlite3.Cursor, domain_id: int, rows: dict[str, _SqliteListing], when: str
) -> tuple[dict[str, _SqliteListing], list[dict[str, Any]], list[str]]:
    """What _PG_RESCAN does, for SQLite (one writer at a time): note the URLs as seen, and keep
    the rows whose listing is new, changed or back, with the changes they make and the URLs
    this scan had removed (stamp `when`) and lists again: moved."""
    cursor.execute(_SEEN_DDL["sqlite"])
    cursor.execute(_SEEN_INDEX)
    cursor.executemany(
        "INSERT INTO scan_seen (domain_id, url) VALUES (?, ?)", ((domain_id, url) for url in rows)
    )
    stored: dict[str, tuple[Any, ...]] = {}
    for chunk in chunks(list(rows), URLS_PER_STATEMENT):
        cursor.execute(_SQLITE_STORED.format(", ".join("?" * len(chunk))), [domain_id, *chunk])
        stored.update((found[0], found[1:]) for found in cursor.fetchall())
    differing: dict[str, _SqliteListing] = {}
    history: list[dict[str, Any]] = []
    moved: list[str] = []
    for url, row in rows.items():
        old = stored.get(url)
        if old is not None and old[-1] is None and old[:-1] == row:
            continue
        differing[url] = row
        new = dict(zip(LISTING_COLUMNS, row[1:], strict=False))
        if old is not None and old[-1] == when:
            moved.append(url)
        elif old is None or old[-1] is not None:
            back = None if old is None else {"removed_at": _json_time(old[-1])}
            history.append(
                {
                    "kind": "page_added",
                    "subject": url,
                    "old": back,
                    "new": {k: v for k, v in _json_listing(new).items() if v is not None},
                }
            )
            continue
        was = dict(zip(LISTING_COLUMNS, old[1:-1], strict=False))
        names = [c for c in LISTING_COLUMNS if was[c] != new[c]]
        if names:
            history.append(
                {
                    "kind": "page_changed",
                    "subject": url,
                    "old": _json_listing({c: was[c] for c in names}),
                    "new": _json_listing({c: new[c] for c in names}),
                }
            )
    return differing, history, moved


def _json_listing(values: dict[str, Any]) -> dict[str, Any]:
    """Listing columns as SQLite stores them → the JSON values PostgreSQL's history rows hold."""
    out = {}
    for name, value in values.items():
        if name == "lastmod":
            value = _json_time(value)
        elif name in ("alternates", "images", "news", "videos") and value is not None:
            value = json.loads(value)
        out[name] = value
    return out


def _json_time(value: str | None) -> str | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()


def _sqlite_stamp(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime type writes (UTC, no offset).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# --- ends of scans --------------------------------------------------------------------------


def prepare(connection: Connection) -> None:
    """Ready a transaction for the writes below, in one round trip: the temporary tables (the
    staging table of listed pages, each scan's listed URLs) and the merges' settings. Run at the
    transaction's top level, not in a savepoint, whose rollback would take the tables with it."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"{_STAGE_DDL}; {_SEEN_DDL['postgresql']}; {_MERGE_SETTINGS}")
    else:
        _ensure_seen(connection)


def _ensure_seen(connection: Connection) -> None:
    connection.exec_driver_sql(_SEEN_DDL[connection.dialect.name])
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_SEEN_INDEX)


def forget_seen(connection: Connection, domain_id: int) -> None:
    connection.execute(SCAN_SEEN.delete().where(SCAN_SEEN.c.domain_id == domain_id))


def remove_unlisted_pages(
    connection: Connection,
    domain_id: int,
    sitemap_urls: Collection[str],
    stamp: datetime,
    job_pk: int | None,
) -> int:
    """Pages of these sitemaps (read completely in this scan) that the scan did not list stopped
    being listed."""
    if not sitemap_urls:
        return 0
    ids = list(sitemap_file_ids(connection, domain_id, sitemap_urls).values())
    unseen = ~exists().where(SCAN_SEEN.c.domain_id == domain_id, SCAN_SEEN.c.url == Page.url)
    if connection.dialect.name != "postgresql":
        return _remove_pages(connection, domain_id, ids, stamp, job_pk, unseen)
    # Right after a bulk load the statistics of pages say a domain has a few rows, and the planner
    # picks a nested loop over scan_seen: quadratic. A hash anti-join is right at any size.
    # The hash of a million listed URLs takes about 100 MB: enough memory to keep it in one batch.
    connection.exec_driver_sql("SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '160MB'")
    removed = _remove_pages(connection, domain_id, ids, stamp, job_pk, unseen)
    connection.exec_driver_sql("SET LOCAL enable_nestloop = on; SET LOCAL work_mem = '64MB'")
    return removed


def remove_vanished_pages(
    connection: Connection,
    domain_id: int,
    vanished: Mapping[str, Sequence[str]],
    stamp: datetime,
    job_pk: int | None,
) -> int:
    """Pages that sitemaps read by a diff (sitemap URL → the URLs it no longer lists) stopped
    listing, unless this scan listed them in another sitemap."""
    if not any(vanished.values()):
        return 0
    ids = sitemap_file_ids(connection, domain_id, vanished)
    # Few URLs against a few index probes each: plain IN lists, no join the planner could turn
    # into a scan of all of the domain's pages.
    size = _IN_LIST[connection.dialect.name]
    listed: set[str] = set()
    for chunk in chunks([url for urls in vanished.values() for url in urls], size):
        listed.update(
            connection.scalars(
                select(SCAN_SEEN.c.url).where(
                    SCAN_SEEN.c.domain_id == domain_id, SCAN_SEEN.c.url.in_(chunk)
                )
            )
        )
    pairs = [
        (ids[sitemap_url], url)
        for sitemap_url, urls in vanished.items()
        for url in urls
        if url not in listed
    ]
    if connection.dialect.name == "postgresql":
        return _remove_pairs_postgres(connection, domain_id, pairs, stamp, job_pk)
    removed = 0
    for file_id in sorted({file_id for file_id, _ in pairs}):
        urls = [url for owner, url in pairs if owner == file_id]
        for chunk in chunks(urls, size):
            removed += _remove_pages(
                connection, domain_id, [file_id], stamp, job_pk, Page.url.in_(chunk)
            )
    return removed


# One statement for all of a scan's vanished pages and their history rows: (sitemap file, URL)
# pairs as two arrays, each pair an index probe, in URL order as the merges lock rows (see
# _PG_MERGE). 'null' as record_changes stores None.
_PG_REMOVE_PAIRS = """
WITH gone AS (
    UPDATE pages p SET removed_at = %(stamp)s
    FROM (SELECT * FROM unnest(%(ids)s::bigint[], %(urls)s::text[]) AS v(sitemap_file_id, url)
          ORDER BY url COLLATE "C") v
    WHERE p.domain_id = %(domain_id)s AND p.url = v.url COLLATE "C"
      AND p.sitemap_file_id = v.sitemap_file_id AND p.removed_at IS NULL
    RETURNING p.url
)
INSERT INTO scan_changes (domain_id, job_id, changed_at, kind, subject, old, new)
SELECT %(domain_id)s, %(job_pk)s, %(stamp)s, 'page_removed', url, 'null'::jsonb, 'null'::jsonb
FROM gone ORDER BY url
"""


def _remove_pairs_postgres(
    connection: Connection,
    domain_id: int,
    pairs: list[tuple[int, str]],
    stamp: datetime,
    job_pk: int | None,
) -> int:
    if not pairs:
        return 0
    params = {
        "stamp": stamp,
        "domain_id": domain_id,
        "job_pk": job_pk,
        "ids": [file_id for file_id, _ in pairs],
        "urls": [url for _, url in pairs],
    }
    return connection.exec_driver_sql(_PG_REMOVE_PAIRS, params).rowcount


# URLs per IN list: SQLite's bound-parameter limit; on PostgreSQL a statement's fixed cost
# outweighs a long list (a few milliseconds per statement, microseconds per URL).
_IN_LIST = {"sqlite": URLS_PER_STATEMENT, "postgresql": 20_000}


def chunks(urls: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(urls), size):
        yield urls[start : start + size]


def analyze_pages(connection: Connection) -> None:
    """Refresh the planner's statistics of pages (PostgreSQL; SQLite plans by its indexes)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE pages")


def remove_sitemaps(
    connection: Connection,
    domain_id: int,
    seen_urls: Collection[str],
    stamp: datetime,
    job_pk: int | None,
) -> None:
    """Sitemaps this scan did not come across any more are removed, and their pages with them."""
    files = connection.execute(
        select(SitemapFile.id, SitemapFile.url).where(
            SitemapFile.domain_id == domain_id,
            SitemapFile.removed_at.is_(None),
            SitemapFile.fetched_at.is_not(None),
        )
    ).all()
    gone = [(file_id, url) for file_id, url in files if url not in seen_urls]
    if not gone:
        return
    ids = [file_id for file_id, _ in gone]
    connection.execute(update(SitemapFile).where(SitemapFile.id.in_(ids)).values(removed_at=stamp))
    record_changes(
        connection,
        domain_id,
        job_pk,
        stamp,
        [{"kind": "sitemap_removed", "subject": url, "old": None, "new": None} for _, url in gone],
    )
    _remove_pages(connection, domain_id, ids, stamp, job_pk)


def _remove_pages(
    connection: Connection,
    domain_id: int,
    file_ids: list[int],
    stamp: datetime,
    job_pk: int | None,
    *conditions: ColumnElement[bool],
) -> int:
    if not file_ids:
        return 0
    # removed_at IS NULL is checked again on a row a concurrent scan just changed: one of two
    # scans removing the same page records it.
    gone = (
        connection.execute(
            update(Page)
            .where(
                Page.domain_id == domain_id,
                Page.removed_at.is_(None),
                Page.sitemap_file_id.in_(file_ids),
                *conditions,
            )
            .values(removed_at=stamp)
            .returning(Page.url)
        )
        .scalars()
        .all()
    )
    record_changes(
        connection,
        domain_id,
        job_pk,
        stamp,
        [
            {"kind": "page_removed", "subject": url, "old": None, "new": None}
            for url in sorted(gone)
        ],
    )
    return len(gone)


def _sqlite_time(microseconds: str | None) -> str | None:
    # The text form SQLAlchemy's SQLite DateTime type writes and reads back (UTC, no offset).
    if microseconds is None:
        return None
    return (NAIVE_EPOCH + int(microseconds) * MICROSECOND).isoformat(" ", "microseconds")


# Compact JSON that keeps non-ASCII text as it is.
_encode_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode_json(value: Any) -> str | None:
    return _encode_json(value) if value else None
