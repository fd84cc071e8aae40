"""Item pipelines: normalize every field, then store in batched upserts off the reactor thread."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from itemadapter import ItemAdapter
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from scrapersky import signals
from scrapersky.core.errors import DatabaseUnavailable
from scrapersky.core.messages import MAX_ERROR_LENGTH
from scrapersky.core.retry import Backoff, retry_async
from scrapersky.core.states import JobStatus
from scrapersky.core.storable import storable, storable_text
from scrapersky.db.bulk import DomainKey
from scrapersky.db.engine import get_engine
from scrapersky.db.errors import DATABASE_ERRORS, is_transient
from scrapersky.db.normalize import normalize_domain_metadata, normalize_listed_pages
from scrapersky.db.schema import first_line
from scrapersky.db.store import ScanState, StoreBatch, write_batch
from scrapersky.items import DomainItem, PageBatchItem, PageItem, SitemapFileItem
from scrapersky.metadata.text import MAX_DESCRIPTION_LENGTH, MAX_TITLE_LENGTH, clean_text

logger = logging.getLogger(__name__)


class NormalizePipeline:
    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageBatchItem):
            item.pages, dropped = normalize_listed_pages(item.pages)
            for reason, count in dropped.items():
                self.stats.inc_value(f"scrapersky/dropped_urls/{reason}", count)
        elif isinstance(item, DomainItem):
            item.metadata = normalize_domain_metadata(item.metadata)
            item.last_error = clean_text(item.last_error, MAX_ERROR_LENGTH)
        elif isinstance(item, SitemapFileItem):
            item.error_message = clean_text(item.error_message, 500)
        elif isinstance(item, PageItem):
            item.title = clean_text(item.title, MAX_TITLE_LENGTH)
            item.description = clean_text(item.description, MAX_DESCRIPTION_LENGTH)
        if isinstance(item, (DomainItem, SitemapFileItem, PageItem)):
            # Every field, not a list of the ones known to carry a site's text: a field added
            # later is covered too. Listed pages were made storable entry by entry above.
            for name in item.__dataclass_fields__:
                setattr(item, name, storable(getattr(item, name)))
        return item


def _failed_domain(item: DomainItem) -> dict[str, Any]:
    values = ItemAdapter(item).asdict()
    values.update(metadata={}, homepage_read=False, sitemaps_complete=False)
    return values


class StoreError(DatabaseUnavailable, RuntimeError):
    """The database stayed unreachable through every retry, or refused the write (not retried)."""


class StorePipeline:
    """Buffer rows and write them in bulk; a scan's DomainItem waits until its end is written.

    One batch fills while the previous one is written in a thread, so parsing and writing
    overlap: when a write ends, the writer takes whatever was buffered meanwhile, and a full
    batch waits for the write in flight, which bounds memory at about two batches and slows
    parsing down to the database's pace. Every scan's rows are buffered before its DomainItem,
    and a batch writes each domain's rows before its end, so a DomainItem joins the filling
    batch and waits for that batch's write: the ends that arrive during one write share the
    next (one transaction for many domains, never a queue of single-domain writes). An idle
    writer also waits SCRAPERSKY_GATHER_MS for other scans' rows and ends before it writes,
    while the run has other scans under way: a run whose scans end one at a time would
    otherwise write each alone.
    """

    def __init__(
        self, url: str, buffer_rows: int, retries: int, stats, gather: float = 0.0
    ) -> None:
        self.url = url
        self.buffer_rows = buffer_rows
        self.gather = gather
        self.gathering: asyncio.TimerHandle | None = None
        self.retries = retries
        self.stats = stats
        self.batch = StoreBatch()  # filling
        # Set when the filling batch's write ends (made when a DomainItem waits for it), and when
        # the write in flight ends, written or not.
        self.batch_written: asyncio.Future[None] | None = None
        self.in_flight: asyncio.Future[None] | None = None
        self.writer: asyncio.Task[None] | None = None
        # Held by a PageBatchItem waiting for room in a full batch: items wait their turn in
        # order, and a scan's end never overtakes its own rows.
        self.room = asyncio.Lock()
        self.domain_ids: dict[tuple[str, str], int] = {}
        self.lost: dict[tuple[str, str], str] = {}  # domains whose rows could not be written
        self.scans: dict[tuple[str, str], ScanState] = {}
        # One connection for every write of the run: it keeps each scan's listed URLs (a temporary
        # table) from flush to flush. Made on first use, in the writer thread.
        self.connection = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        pipeline = cls(
            settings.get("DATABASE_URL"),
            settings.getint("SCRAPERSKY_STORE_BUFFER"),
            settings.getint("SCRAPERSKY_STORE_RETRIES"),
            crawler.stats,
            settings.getint("SCRAPERSKY_GATHER_MS") / 1000,
        )
        crawler.signals.connect(pipeline.scan_started, signal=signals.scan_started)
        return pipeline

    def scan_started(self, scan) -> None:
        self.scans[(scan.tenant_id, scan.domain)] = ScanState(job_pk=scan.job.id)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageBatchItem):
            async with self.room:
                while self.batch.rows >= self.buffer_rows and self.in_flight is not None:
                    await asyncio.shield(self.in_flight)
                self.batch.add_pages(item)
            self._start_writing()
            # Items queued behind this one would otherwise be handled without the reactor
            # getting a turn in between: each costs a few milliseconds of formatting.
            await asyncio.sleep(0)
        elif isinstance(item, SitemapFileItem):
            self.batch.add_file(item)
        elif isinstance(item, PageItem):
            self.batch.add_fetch(item)
        elif isinstance(item, DomainItem):
            await self._store_end(item)
        return item

    async def _store_end(self, item: DomainItem) -> None:
        key = (item.tenant_id, item.domain)
        try:
            values = dict(vars(item))  # a shallow copy: the writer reads it, changes its own keys
            await self._written(values)
            # The writer marks the end failed when an earlier write lost rows of the scan.
            item.status, item.last_error = values["status"], values["last_error"]
            if key in self.lost:
                # Its own end was refused: the job says so, and the domain row too, without
                # what the refused write carried.
                item.status, item.last_error = JobStatus.FAILED, self.lost.pop(key)
                await self._written(_failed_domain(item))
                self.lost.pop(key, None)
        finally:
            state = self.scans.pop(key, None)
        if state is not None and state.sitemap_urls is not None:
            # Feed exports and the item say what the domain lists now, as the domain row does.
            item.sitemap_urls, item.total_sitemaps = state.sitemap_urls, state.total_sitemaps

    async def _written(self, domain: dict[str, Any]) -> None:
        """Add a domain's end to the filling batch and wait until that batch is written."""
        async with self.room:
            self.batch.add_domain(domain)
        if self.batch_written is None:
            self.batch_written = asyncio.get_running_loop().create_future()
        written = self.batch_written
        self._start_writing()
        await asyncio.shield(written)

    async def close_spider(self) -> None:
        await self.flush()
        if self.connection is not None:
            await asyncio.to_thread(self.connection.close)

    async def flush(self) -> None:
        """Write everything buffered and wait until it is written."""
        self._start_writing(now=True)
        while self.writer is not None and not self.writer.done():
            await asyncio.shield(self.writer)

    def _start_writing(self, *, now: bool = False) -> None:
        """Hand the filling batch to the writer, unless it is writing already: it then takes
        what was buffered meanwhile as soon as the write in flight ends. While other scans of
        the run are under way and the batch has room, the writer first waits `gather` seconds
        for their rows and ends, which then share its transaction."""
        if self.in_flight is not None or self.batch.empty:
            return
        if not now and self._worth_gathering():
            if self.gathering is None:
                loop = asyncio.get_running_loop()
                self.gathering = loop.call_later(self.gather, self._gathered)
            return
        if self.gathering is not None:
            self.gathering.cancel()
            self.gathering = None
        self.writer = asyncio.ensure_future(self._write_all(self._take()))

    def _gathered(self) -> None:
        self.gathering = None
        self._start_writing(now=True)

    def _worth_gathering(self) -> bool:
        # Scans whose end is in the batch are still in self.scans until it is written.
        return (
            self.gather > 0
            and self.batch.rows < self.buffer_rows
            and len(self.scans) > len(self.batch.domains)
        )

    def _take(self) -> StoreBatch:
        batch, written = self.batch, self.batch_written
        self.batch, self.batch_written = StoreBatch(), None
        self.in_flight = written or asyncio.get_running_loop().create_future()
        return batch

    async def _write_all(self, batch: StoreBatch) -> None:
        while True:
            try:
                await self._write(batch)
            except StoreError:
                pass  # counted in stats and remembered per domain by _write
            finally:
                assert self.in_flight is not None
                self.in_flight.set_result(None)
                self.in_flight = None
            if self.batch.empty:
                return
            batch = self._take()

    async def _write(self, batch: StoreBatch) -> None:
        # A sitemap's rows can straddle two batches: when the first was lost, the file row in the
        # second must not carry the ETag, Last-Modified or digest that would let the next scan
        # skip it; a scan that lost rows ends failed, with the reason.
        batch.forget_validators(self.lost.keys())
        for values in batch.domains:
            key = (values["tenant_id"], values["domain"])
            if key in self.lost:
                values.update(status=JobStatus.FAILED, last_error=self.lost.pop(key))
        try:
            await self._write_with_retries(batch)
        except Exception as exc:
            if not isinstance(exc, StoreError):
                # A bug in the write path: its domains end failed, never stored in silence.
                logger.error("writing a batch failed", exc_info=exc)
                exc = StoreError(f"storing results failed: {type(exc).__name__}: {exc}")
            for key in batch.domain_keys():
                self.lost.setdefault(key, str(exc))
                if key in self.scans:
                    self.scans[key].seen_lost = True
            self.stats.inc_value("scrapersky/store/lost_rows", batch.rows)
            raise exc from None

    async def _write_with_retries(self, batch: StoreBatch) -> None:
        failed: dict[DomainKey, str] = {}

        async def attempt() -> tuple[int, float]:
            """Rows changed, and the seconds the write took."""
            failed.clear()
            started = time.monotonic()
            try:
                written = await asyncio.to_thread(self._write_once, batch, failed)
            except DATABASE_ERRORS as exc:
                if self._connection_lost(exc):
                    self._reconnect()
                raise
            return written, time.monotonic() - started

        try:
            written, seconds = await retry_async(
                attempt,
                is_transient=is_transient,
                backoff=Backoff(0.5, cap=15.0, retries=self.retries),
                on_retry=self._retrying,
            )
        except DATABASE_ERRORS as exc:
            reason = storable_text(first_line(exc))
            if not is_transient(exc):
                # A value or a statement the database refuses: refused again on every try.
                self.stats.inc_value("scrapersky/store/data_errors")
                raise StoreError(f"database refused the write: {reason}") from exc
            # Counted as it always was: every transient failure, the last one too.
            self.stats.inc_value("scrapersky/store/retries")
            raise StoreError(
                f"database write failed after {self.retries + 1} attempts: {reason}"
            ) from exc
        self._lose_domains(failed)
        self.stats.inc_value("scrapersky/store/page_rows", batch.rows)
        self.stats.inc_value("scrapersky/store/page_rows_changed", written)
        self.stats.inc_value("scrapersky/store/flushes")
        self.stats.max_value("scrapersky/store/max_flush_seconds", round(seconds, 3))

    def _retrying(self, exc: Exception, delay: float) -> None:
        self.stats.inc_value("scrapersky/store/retries")
        reason = storable_text(first_line(exc))
        logger.warning("database write failed (%s); retrying in %.1fs", reason, delay)
        self.domain_ids.clear()  # ids may be gone if the transaction that made them was lost

    def _write_once(self, batch: StoreBatch, failed: dict[DomainKey, str]) -> int:
        if self.connection is None:
            self.connection = get_engine(self.url).connect()
        return write_batch(self.url, batch, self.domain_ids, self.scans, self.connection, failed)

    def _lose_domains(self, failed: dict[DomainKey, str]) -> None:
        """Domains whose part of a flush the database refused (the rest of it was written):
        their scans end failed with the reason, and decide no removals."""
        for key, reason in failed.items():
            logger.error("could not store the results of %s: %s", key[1], reason)
            self.lost.setdefault(key, f"storing results failed: {reason}")
            if key in self.scans:
                self.scans[key].seen_lost = True
            self.stats.inc_value("scrapersky/store/failed_domains")

    def _connection_lost(self, exc: Exception) -> bool:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        # An error of a statement run on the driver's cursor (COPY) does not tell SQLAlchemy.
        try:
            driver = self.connection.connection.driver_connection if self.connection else None
        except SQLAlchemyError:
            return True  # no usable connection behind it
        return bool(getattr(driver, "closed", False))

    def _reconnect(self) -> None:
        """The connection is gone, and with it the URLs each scan listed so far: those scans
        decide no removals."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        for state in self.scans.values():
            state.seen_lost = True
