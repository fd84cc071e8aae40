"""One flush of scan results: everything buffered is written in a single transaction, each
domain's part under its own savepoint (a part the database refuses costs no other domain its rows).

How a rescan keeps the inventory true without rewriting what did not change:
- A page row is written only when its listing is new, changed, or listed again after it was
  removed; `last_seen_at` is the time of that write. A sitemap read completely, or found
  unchanged (304, same bytes), gets `confirmed_at`: every page it lists was seen then. So an
  unchanged rescan writes no page rows, and a listed URL was last seen at the later of its own
  `last_seen_at` and its sitemap's `confirmed_at`.
- Removals are decided per sitemap, only for sitemaps read completely in this scan: their pages
  that this scan did not list are marked `removed_at`. The URLs a scan lists are kept in a
  temporary table of the writer's own connection (`scan_seen`), so no page row is touched to
  say it was seen. A sitemap that failed, was cut short or was not re-read keeps its pages.
- A urlset read by a diff with its kept reading (scrapersky.sitemaps.diff) lists only what
  changed; the URLs it no longer lists come with it and are removed in the same write, unless
  this scan listed them already. One that a later write of the scan lists again was moved: it
  is listed once more, and its removal is taken out of the history.
- A sitemap that disappeared (robots.txt or its index no longer names it) is removed with its
  pages, only when the scan read every sitemap it knew of.
- Every change is recorded in scan_changes in the transaction that makes it, from the rows the
  statement actually changed, so two scans of one domain at once never record a change twice.
  A domain's first scan records one `first_scan` row, not a row per URL: it is the baseline.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from scrapersky.core.clock import now
from scrapersky.core.messages import MAX_ERROR_LENGTH, cut
from scrapersky.core.storable import storable_text
from scrapersky.db import bulk
from scrapersky.db.bulk import DomainKey
from scrapersky.db.engine import get_engine
from scrapersky.db.errors import DATABASE_ERRORS, is_transient
from scrapersky.db.models import DOMAIN_METADATA_COLUMNS, Domain
from scrapersky.db.schema import first_line
from scrapersky.items import PageBatchItem, PageItem, SitemapFileItem

# A first scan that wrote this many pages refreshes the planner's statistics of `pages` before
# its transaction ends: right after a bulk load they describe a table without this domain, and
# the next rescan's lookups by URL would be planned as scans of the whole table.
ANALYZE_AFTER_PAGES = 100_000


@dataclass
class ScanState:
    """What the writer keeps about one scan of a domain between its flushes."""

    job_pk: int | None = None
    # One time for every stamp this scan writes (first/last seen, removed, changes).
    stamp: datetime = field(default_factory=now)
    rescan: bool | None = None  # decided at the scan's first write: did an earlier scan finish?
    files_seen: set[str] = field(default_factory=set)  # sitemap URLs this scan has file items for
    complete: set[str] = field(
        default_factory=set
    )  # ... of which were read (not unchanged) completely
    # The URLs listed so far are gone (a lost write, a new connection): decide no removals.
    seen_lost: bool = False
    # After the scan's last write: URLs and sitemaps the domain lists now.
    sitemap_urls: int | None = None
    total_sitemaps: int | None = None


@dataclass
class StoreBatch:
    # Listed pages as lines of COPY text per domain (bulk.listing_line), made on the reactor
    # thread one item (a few thousand rows) at a time: compact in memory, and the writer
    # thread has no per-row Python work left to compete for the GIL with the parser.
    pages: dict[DomainKey, list[str]] = field(default_factory=dict)
    # Per domain, the sitemap files the lines name, by their key in the lines (1, 2, …).
    sitemaps: dict[DomainKey, dict[str, int]] = field(default_factory=dict)
    rows: int = 0
    files: list[tuple[DomainKey, dict[str, Any]]] = field(default_factory=list)
    fetches: list[tuple[DomainKey, dict[str, Any]]] = field(default_factory=list)
    domains: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.pages or self.files or self.fetches or self.domains)

    def add_pages(self, item: PageBatchItem) -> None:
        key = (item.tenant_id, item.domain)
        lines = self.pages.setdefault(key, [])
        sitemaps = self.sitemaps.setdefault(key, {})
        sitemap_key = sitemaps.setdefault(item.sitemap_url, len(sitemaps) + 1)
        line = bulk.listing_line
        lines.extend([line(sitemap_key, entry) for entry in item.pages])
        self.rows += len(item.pages)

    # An item's fields as a shallow copy: asdict's recursive deep copy cost more than the rest
    # of adding the item; the batch changes only the copy's own keys (forget_validators).
    def add_file(self, item: SitemapFileItem) -> None:
        values = dict(vars(item))
        self.files.append(((values.pop("tenant_id"), values.pop("domain")), values))

    def add_fetch(self, item: PageItem) -> None:
        values = dict(vars(item))
        self.fetches.append(((values.pop("tenant_id"), values.pop("domain")), values))

    def add_domain(self, values: dict[str, Any]) -> None:
        self.domains.append(values)

    def forget_validators(self, domains: Collection[DomainKey]) -> None:
        """Store these domains' sitemap files without ETag, Last-Modified or digest, so that the
        next scan reads them in full instead of taking them as unchanged."""
        for key, values in self.files:
            if key in domains:
                values["etag"] = values["last_modified"] = values["content_digest"] = None
                values["listing"] = None

    def domain_keys(self) -> set[DomainKey]:
        keys = set(self.pages)
        keys.update(key for key, _ in self.files)
        keys.update(key for key, _ in self.fetches)
        keys.update((v["tenant_id"], v["domain"]) for v in self.domains)
        return keys


@contextmanager
def _connection(url: str, connection: Connection | None) -> Iterator[Connection]:
    if connection is not None:
        yield connection
        return
    with get_engine(url).connect() as fresh:
        yield fresh


def write_batch(
    url: str,
    batch: StoreBatch,
    id_cache: dict[DomainKey, int],
    scans: dict[DomainKey, ScanState] | None = None,
    connection: Connection | None = None,
    failed: dict[DomainKey, str] | None = None,
) -> int:
    """Write a batch in one transaction; returns how many page rows were inserted or changed.

    A row of one domain that the database refuses costs no other domain its rows: the batch is
    then written again with each domain's part under its own savepoint, the refused domain goes
    to `failed` with the reason, and the other domains' parts are committed. The first try has
    no savepoints, as almost every batch needs none (two round trips fewer per domain). A
    transient error (scrapersky.db.errors) rolls back the whole batch and is raised, for the
    caller to write it again.

    `scans`: the state of the scans the batch belongs to (a fresh one for a domain without);
    `connection`: the writer's own connection, which keeps a scan's listed URLs between flushes
    (without it no removals can be decided)."""
    scans = scans if scans is not None else {}
    with _connection(url, connection) as connection:
        try:
            with connection.begin():
                changed, found = _write(connection, batch, id_cache, scans, None)
        except DATABASE_ERRORS as exc:
            if is_transient(exc):
                raise
            with connection.begin():
                failed = failed if failed is not None else {}
                changed, found = _write(connection, batch, id_cache, scans, failed)
    id_cache.update(found)  # only after the commit: a rolled-back insert leaves no id behind
    return changed


def _write(
    connection: Connection,
    batch: StoreBatch,
    id_cache: dict[DomainKey, int],
    scans: dict[DomainKey, ScanState],
    failed: dict[DomainKey, str] | None,
) -> tuple[int, dict[DomainKey, int]]:
    """The batch's writes in the transaction begun; each domain's part under a savepoint when
    `failed` is given. Returns the rows changed and the ids of domains new to `id_cache`."""
    _begin_now(connection)
    keys = batch.domain_keys()
    states = {key: scans.get(key) or ScanState() for key in keys}
    asked = bulk.domain_rows(
        connection, [k for k in keys if k not in id_cache or states[k].rescan is None]
    )
    found = {key: ident for key, (ident, _) in asked.items() if key not in id_cache}
    ids = {**id_cache, **found}
    for key, (_, scanned_before) in asked.items():
        if states[key].rescan is None:
            states[key].rescan = scanned_before
    if batch.pages or any(state.rescan for state in states.values()):
        bulk.prepare(connection)
    for key, values in batch.files:  # sets: a batch written again after a rollback adds nothing
        states[key].files_seen.add(values["url"])
        if values.get("complete") and values.get("vanished") is None:
            states[key].complete.add(values["url"])
    changed = 0
    # Domains in id order, and within one its files in URL order, so concurrent scans of one
    # domain lock rows in the same order and cannot deadlock.
    order = sorted(states, key=lambda k: ids[k])
    parts = _Part.all_of(batch, order)
    together: dict[DomainKey, dict[str, int]] = {}
    if failed is None:
        together = _files_together(connection, parts, ids, states)
        # The first scans' listed pages, all in one merge (their files are in `together`).
        listings = [
            (
                ids[key],
                batch.pages[key],
                [together[key][url] for url in batch.sitemaps[key]],
                states[key].stamp,
            )
            for key in order
            if key in together and key in batch.pages
        ]
        changed += bulk.upsert_first_listings(connection, listings)
    for key in order:
        if failed is None:
            changed += _write_domain(
                connection, batch, parts[key], key, ids[key], states[key], together.get(key)
            )
            continue
        try:
            with connection.begin_nested():
                changed += _write_domain(connection, batch, parts[key], key, ids[key], states[key])
        except DATABASE_ERRORS as exc:
            if is_transient(exc):
                raise
            failed[key] = _reason(exc)
    return changed, found


def _begin_now(connection: Connection) -> None:
    # pysqlite (legacy transaction control) begins a transaction only at the first write: a
    # SAVEPOINT before it would start one of its own, committed at its RELEASE.
    if connection.dialect.name != "sqlite":
        return
    import sqlite3  # loaded already: the connection is sqlite3's

    dbapi = connection.connection.driver_connection
    assert isinstance(dbapi, sqlite3.Connection)
    if not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _reason(exc: Exception) -> str:
    # The database's message may quote the refused value: it is made storable in turn.
    return cut(storable_text(first_line(exc)), MAX_ERROR_LENGTH)


@dataclass
class _Part:
    """One domain's part of a batch: its sitemap file items (in URL order), every sitemap URL the
    part names (its pages' sitemaps, its files and their parents), its page fetches and its end."""

    files: list[dict[str, Any]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    fetches: list[dict[str, Any]] = field(default_factory=list)
    ends: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def all_of(batch: StoreBatch, keys: Collection[DomainKey]) -> dict[DomainKey, _Part]:
        """Every domain's part, sorted out in one pass over the batch (not one per domain)."""
        parts = {key: _Part(names=set(batch.sitemaps.get(key, ()))) for key in keys}
        for key, values in batch.files:
            parts[key].files.append(values)
            parts[key].names.add(values["url"])
            if values.get("parent_url"):
                parts[key].names.add(values["parent_url"])
        for key, values in batch.fetches:
            parts[key].fetches.append(values)
        for values in batch.domains:
            parts[(values["tenant_id"], values["domain"])].ends.append(values)
        for part in parts.values():
            part.files.sort(key=lambda values: values["url"])
        return parts


def _files_together(
    connection: Connection,
    parts: dict[DomainKey, _Part],
    ids: dict[DomainKey, int],
    states: dict[DomainKey, ScanState],
) -> dict[DomainKey, dict[str, int]]:
    """The sitemap file rows of the batch's first scans, written for all of them at once (a
    few statements instead of four a domain); returns their file ids by domain. A rescan
    compares each file with its row, and a part that names one file twice writes it twice in
    order: those are written domain by domain (_write_domain)."""
    keys = [
        key
        for key, part in parts.items()
        if not states[key].rescan and len({v["url"] for v in part.files}) == len(part.files)
    ]
    found = bulk.sitemap_files_of(connection, {ids[key]: parts[key].names for key in keys})
    file_ids = {key: found[ids[key]] for key in keys}
    bulk.insert_sitemap_files_of(
        connection,
        {ids[key]: parts[key].files for key in keys if parts[key].files},
        found,
        {ids[key]: states[key].stamp for key in keys},
    )
    return file_ids


def _write_domain(
    connection: Connection,
    batch: StoreBatch,
    part: _Part,
    key: DomainKey,
    domain_id: int,
    state: ScanState,
    file_ids: dict[str, int] | None = None,
) -> int:
    """One domain's part of a batch: its sitemap files and listed pages (unless written with
    others' already, `file_ids`), fetches and its end."""
    files = part.files
    together = file_ids is not None
    if file_ids is None:
        # Every sitemap the part names gets a row (a placeholder if need be) first, so parents
        # and the pages' sitemaps resolve in any order.
        file_ids = bulk.sitemap_files(connection, domain_id, part.names)
        changes = bulk.upsert_sitemap_files(
            connection, domain_id, files, file_ids, state.stamp, compare=bool(state.rescan)
        )
        bulk.record_changes(connection, domain_id, state.job_pk, state.stamp, changes)
    changed = 0
    if key in batch.pages and not together:
        sitemaps = batch.sitemaps[key]  # in key order: keys were handed out 1, 2, … as added
        changed = bulk.upsert_listed_pages(
            connection,
            domain_id,
            batch.pages[key],
            [file_ids[url] for url in sitemaps],
            state.stamp,
            rescan=bool(state.rescan),
            job_pk=state.job_pk,
        )
    for values in files:
        # A sitemap read by a diff: what it no longer lists goes now, while the scan goes on.
        # A URL another sitemap lists later in the scan comes back in that merge, as moved.
        if values.get("vanished") and state.rescan and not state.seen_lost:
            vanished = {values["url"]: values["vanished"]}
            bulk.remove_vanished_pages(connection, domain_id, vanished, state.stamp, state.job_pk)
    bulk.upsert_page_fetches(connection, domain_id, part.fetches)
    for values in part.ends:
        _finish_scan(connection, domain_id, values, state)
    return changed


def _finish_scan(
    connection: Connection, domain_id: int, item: dict[str, Any], state: ScanState
) -> None:
    """The end of a domain's scan: removals, metadata, counts, and the domain row."""
    changes: list[dict[str, Any]] = []
    if state.rescan:
        if not state.seen_lost:
            bulk.remove_unlisted_pages(
                connection, domain_id, state.complete, state.stamp, state.job_pk
            )
            if item.get("sitemaps_complete"):
                bulk.remove_sitemaps(
                    connection, domain_id, state.files_seen, state.stamp, state.job_pk
                )
        bulk.forget_seen(connection, domain_id)  # only a rescan notes the URLs it lists
    values: dict[str, Any] = {}
    if item.get("homepage_read"):
        # The metadata is replaced as a whole, and only from a homepage this scan actually read.
        metadata = item["metadata"]
        values = {column: metadata.get(column) for column in DOMAIN_METADATA_COLUMNS}
        values["is_wordpress"] = bool(metadata.get("is_wordpress"))
        values["has_elementor"] = bool(metadata.get("has_elementor"))
        values.update(domain_metadata=metadata, metadata_at=state.stamp)
        if state.rescan:
            changes += _metadata_changes(connection, domain_id, values)
    values.update(status=item["status"], last_scan=item["last_scan"], last_error=item["last_error"])
    # Counts come from the stored rows, so they are true whatever the scan saw twice.
    pages, sitemaps = bulk.upsert_domain(connection, domain_id, values)
    if not state.rescan:
        if pages >= ANALYZE_AFTER_PAGES:
            bulk.analyze_pages(connection)
        changes.append(
            {
                "kind": "first_scan",
                "subject": item["domain"],
                "old": None,
                "new": {"pages": pages, "sitemaps": sitemaps},
            }
        )
    bulk.record_changes(connection, domain_id, state.job_pk, state.stamp, changes)
    state.sitemap_urls, state.total_sitemaps = pages, sitemaps


def _metadata_changes(
    connection: Connection, domain_id: int, values: dict[str, Any]
) -> list[dict[str, Any]]:
    columns = [Domain.__table__.c[name] for name in DOMAIN_METADATA_COLUMNS]
    # Locked: of two scans of the domain at once, the second compares with what the first wrote.
    old = (
        connection.execute(
            select(Domain.metadata_at, *columns).where(Domain.id == domain_id).with_for_update()
        )
        .one()
        ._mapping
    )
    if old["metadata_at"] is None:
        return []  # never read before: nothing to compare with
    return [
        {
            "kind": "metadata_changed",
            "subject": name,
            "old": {name: old[name]},
            "new": {name: values[name]},
        }
        for name in DOMAIN_METADATA_COLUMNS
        if _plain(old[name]) != _plain(values[name])
    ]


def _plain(value: Any) -> Any:
    # JSON columns come back as stored; compare them as JSON, with no difference between [] and None.
    return (
        json.dumps(value, sort_keys=True, default=str) if value not in (None, [], {}, "") else None
    )
