"""Write path: page rows/s through the store pipeline's write function, `scrapersky.db.store.write_batch`.

Rows are what NormalizePipeline hands the store for the bench site (URL, lastmod, changefreq,
priority; no extensions), grouped as the pipeline groups them: PageBatchItems of
SCRAPERSKY_PAGE_CHUNK rows, flushed every SCRAPERSKY_STORE_BUFFER rows. Only write_batch
is timed; building the rows is not. A first scan into a fresh database, then the same rows
again (a rescan where nothing changed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bench import Figure, fresh_postgres, run_dir
from bench.site import page_lastmod, page_url
from scrapersky import settings as project_settings
from scrapersky.db.engine import get_engine
from scrapersky.db.schema import upgrade
from scrapersky.db.store import StoreBatch, write_batch
from scrapersky.items import PageBatchItem
from scrapersky.sitemaps import PageEntry

TENANT = "550e8400-e29b-41d4-a716-446655440000"
DOMAIN = "writepath.test"
SITEMAPS = 20
FULL_SIZE = 1_000_000
POSTGRES_FIRST_TARGET = 80_000
POSTGRES_RESCAN_TARGET = 150_000
SQLITE_TARGET = 50_000
CHANGEFREQS = ("daily", "weekly", "monthly", "weekly", "yearly")
PRIORITIES = (1.0, 0.8, 0.6, 0.5, 0.3)


def page_entry(index: int) -> PageEntry:
    return PageEntry(
        page_url(DOMAIN, index),
        datetime.fromisoformat(page_lastmod(index)),
        CHANGEFREQS[index % 5],
        PRIORITIES[index % 5],
    )


def batches(total: int, buffer_rows: int, chunk: int) -> Iterator[StoreBatch]:
    """StoreBatches of buffer_rows rows, each filled from PageBatchItems of chunk rows."""
    per_sitemap = max(total // SITEMAPS, 1)
    batch = StoreBatch()
    for start in range(0, total, chunk):
        indexes = range(start, min(start + chunk, total))
        sitemap_url = f"http://{DOMAIN}/sitemaps/sitemap-{start // per_sitemap + 1:02d}.xml"
        batch.add_pages(
            PageBatchItem(TENANT, DOMAIN, sitemap_url, [page_entry(i) for i in indexes])
        )
        if batch.rows >= buffer_rows:
            yield batch
            batch = StoreBatch()
    if not batch.empty:
        yield batch


def timed_writes(database_url: str, total: int, buffer_rows: int, chunk: int) -> tuple[float, int]:
    """Seconds spent in write_batch over all batches, and the rows it reported changed."""
    ids: dict[tuple[str, str], int] = {}
    seconds, changed = 0.0, 0
    for batch in batches(total, buffer_rows, chunk):
        started = time.perf_counter()
        changed += write_batch(database_url, batch, ids)
        seconds += time.perf_counter() - started
    return seconds, changed


def measure(
    database_url: str, total: int, buffer_rows: int, chunk: int
) -> tuple[float, float, int, int]:
    """(first-scan rows/s, rescan rows/s, rows changed by the first scan, by the rescan)."""
    first_s, first_changed = timed_writes(database_url, total, buffer_rows, chunk)
    rescan_s, rescan_changed = timed_writes(database_url, total, buffer_rows, chunk)
    get_engine(database_url).dispose()
    return total / first_s, total / rescan_s, first_changed, rescan_changed


def run(total: int) -> list[Figure]:
    full = total >= FULL_SIZE
    buffer_rows = project_settings.SCRAPERSKY_STORE_BUFFER
    chunk = project_settings.SCRAPERSKY_PAGE_CHUNK
    with fresh_postgres() as postgres:
        pg_first, pg_rescan, pg_changed, pg_unchanged = measure(postgres, total, buffer_rows, chunk)
    with fresh_sqlite(run_dir() / "writepath.db") as sqlite:
        lite_first, lite_rescan, lite_changed, lite_unchanged = measure(
            sqlite, total, buffer_rows, chunk
        )
    batching = f"batches of {buffer_rows:,} rows made of {chunk:,}-row items"
    return [
        Figure(
            "write.postgres.first",
            "write path: PostgreSQL, first scan",
            pg_first,
            "rows/s",
            f"≥ {POSTGRES_FIRST_TARGET:,} rows/s",
            _judge(pg_first, POSTGRES_FIRST_TARGET, pg_changed == total, full),
            found=total,
            note=f"{batching}; {pg_changed:,} rows reported written",
            speed_target=POSTGRES_FIRST_TARGET if pg_changed == total else None,
        ),
        Figure(
            "write.postgres.rescan",
            "write path: PostgreSQL, rescan unchanged",
            pg_rescan,
            "rows/s",
            f"≥ {POSTGRES_RESCAN_TARGET:,} rows/s",
            _judge(pg_rescan, POSTGRES_RESCAN_TARGET, pg_unchanged == 0, full),
            found=total,
            note=f"{pg_unchanged:,} rows reported changed",
            speed_target=POSTGRES_RESCAN_TARGET if pg_unchanged == 0 else None,
        ),
        Figure(
            "write.sqlite.first",
            "write path: SQLite, first scan",
            lite_first,
            "rows/s",
            f"≥ {SQLITE_TARGET:,} rows/s",
            _judge(lite_first, SQLITE_TARGET, lite_changed == total, full),
            found=total,
            note=f"{lite_changed:,} rows reported written",
            speed_target=SQLITE_TARGET if lite_changed == total else None,
        ),
        Figure(
            "write.sqlite.rescan",
            "write path: SQLite, rescan unchanged",
            lite_rescan,
            "rows/s",
            "",
            None,
            found=total,
            note=f"{lite_unchanged:,} rows reported changed",
        ),
    ]


@contextmanager
def fresh_sqlite(path: Path) -> Iterator[str]:
    """A new, migrated SQLite database file (removed afterwards, with its WAL); yields its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_sqlite_files(path)
    url = f"sqlite:///{path}"
    try:
        upgrade(url)
        yield url
    finally:
        get_engine(url).dispose()
        _remove_sqlite_files(path)


def _remove_sqlite_files(path: Path) -> None:
    for name in (path.name, path.name + "-wal", path.name + "-shm", path.name + "-journal"):
        (path.parent / name).unlink(missing_ok=True)


def _judge(rate: float, target: int, exact: bool, full: bool) -> bool | None:
    """Wrong row counts always fail; the rate targets are judged on full-size runs only."""
    if not exact:
        return False
    return rate >= target if full else None
