"""The `sitemap` spider: orchestrates a domain's scan; parsing, metadata and storage live elsewhere."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from enum import StrEnum
from typing import Any, NamedTuple

from protego import Protego
from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from scrapersky import signals
from scrapersky.config.arguments import RunArguments, parse_run_arguments
from scrapersky.config.scan import ScanSettings
from scrapersky.config.scan_options import ScanOptions
from scrapersky.core.clock import now
from scrapersky.core.messages import first_line
from scrapersky.core.states import DiscoveryMethod, JobStatus
from scrapersky.db import history, jobs
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.items import DomainItem, PageBatchItem, PageItem, SitemapFileItem
from scrapersky.metadata import extract_metadata, extract_page_summary
from scrapersky.rendering import wants_render
from scrapersky.settings import sitemap_spider_settings
from scrapersky.sitemaps import (
    GuessState,
    PageEntry,
    SitemapRef,
    homepage_hints,
    looks_like_news,
    next_guesses,
    open_sitemap,
    site_generators,
    sitemaps_from_robots,
)
from scrapersky.sitemaps.diff import DIFF_MAX_BYTES, ListingDiff, keepable, listing_diff
from scrapersky.sitemaps.stream import is_gzip
from scrapersky.spiders.exceptions import RobotsForbidden
from scrapersky.spiders.scan import Scan


class FoundSitemap(NamedTuple):
    """A sitemap to read and how it was found: what its request carries in meta, and what
    waits in Scan.queued_sitemaps for a download slot (a tuple, no bigger than before)."""

    url: str
    discovery: DiscoveryMethod
    parent: str | None = None  # the index that lists it
    depth: int = 0  # indexes above it
    ancestors: tuple[str, ...] = ()  # their URLs, to stop an index that lists itself


class Step(StrEnum):
    """What a request is for: _dispatch hands its response to the spider's `on_<step>`."""

    ROBOTS = "robots"
    HOMEPAGE = "homepage"
    FAVICON = "favicon"
    SITEMAP = "sitemap"
    PAGE = "page"


# A failure of these is worth recording; a guessed path that is not there is not.
DECLARED = (DiscoveryMethod.ROBOTS_TXT, DiscoveryMethod.SITEMAP_INDEX, DiscoveryMethod.HTML_LINK)
# The discovery step (scrapersky.spiders.scan.DISCOVERY_STEPS) a sitemap's requests count under.
SITEMAP_STEP = {
    DiscoveryMethod.ROBOTS_TXT: "declared",
    DiscoveryMethod.HTML_LINK: "declared",
    DiscoveryMethod.SITEMAP_INDEX: "index_children",
    DiscoveryMethod.WELL_KNOWN: "guesses",
}
# Every status reaches the callbacks except redirects, which RedirectMiddleware follows
# (`handle_httpstatus_all` would switch redirects off too).
SLICE_SECONDS = 0.01  # longest stretch of parsing before the reactor gets a turn
# Yielded by long loops between outputs so _paced can look at the clock; never reaches Scrapy.
CHECKPOINT = object()
CHECKPOINT_EVERY = 256  # listed URLs between checkpoints: a millisecond or two of parsing
STATUSES = [code for code in range(200, 600) if code not in (301, 302, 303, 307, 308)]


class SiteScanSpider(Spider):
    name = "sitemap"
    custom_settings = sitemap_spider_settings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Scrapyd passes extra arguments (_job, _version, …): keep them all, check them in from_crawler.
        super().__init__(*args, **kwargs)
        self.arguments = kwargs

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = spider.config = ScanSettings.from_settings(crawler.settings)
        spider.run: RunArguments = parse_run_arguments(kwargs, config.default_tenant)
        spider.run_id = spider.run.run_id or f"local-{uuid.uuid4().hex[:12]}"
        spider.slots = asyncio.Semaphore(config.concurrent_scans)
        # Half the slots' worth of jobs per claim: few transactions, and a run that ends early
        # leaves few claimed jobs to the lifecycle's clean-up.
        spider.claim_ahead = max(1, config.concurrent_scans // 2)
        spider.parsing = asyncio.Lock()
        return spider

    @property
    def rendering(self) -> bool:
        # Set by RenderingAddon, which Scrapy applies after the spider is made.
        return self.crawler.settings.getbool("SCRAPERSKY_RENDERING")

    # --- jobs ---------------------------------------------------------------------------

    async def start(self):
        run = self.run
        job_ids = None
        if run.domains is not None:
            created = await asyncio.to_thread(
                in_transaction,
                self.config.database_url,
                jobs.add_jobs,
                run.tenant_id,
                run.domains,
                run_id=self.run_id,
                options={"max_pages": run.options.max_pages, "render": run.options.render},
            )
            for job in created:
                if job.status == JobStatus.FAILED:
                    self.crawler.stats.inc_value("scrapersky/jobs/failed")
                    self.logger.error("%s: %s", job.domain, job.error)
            job_ids = [job.id for job in created]
        batch_pk = None
        if run.batch_id is not None:
            batch = await asyncio.to_thread(
                in_transaction, self.config.database_url, jobs.find_batch, run.batch_id
            )
            if batch is None:
                self.logger.error("unknown batch %s", run.batch_id)
                self.crawler.stats.inc_value("scrapersky/jobs/failed")
                return
            batch_pk = batch.id
        # Jobs claimed ahead of a free slot: one transaction claims several (jobs.claim_jobs).
        ahead: deque[jobs.ClaimedJob] = deque()
        last = 0  # the highest job id claimed: the next claim looks past it first
        while True:
            await self.slots.acquire()
            if not ahead:
                ahead.extend(
                    await asyncio.to_thread(
                        in_transaction,
                        self.config.database_url,
                        jobs.claim_jobs,
                        run_id=self.run_id,
                        limit=self.claim_ahead,
                        batch_id=batch_pk,
                        job_ids=job_ids,
                        public_job_id=run.job_id,
                        after=last,
                    )
                )
                if not ahead:
                    self.slots.release()
                    return
                last = max(last, *(job.id for job in ahead))
                self.crawler.signals.send_catch_log(signals.jobs_claimed, claimed=list(ahead))
            claimed = ahead.popleft()
            scan = Scan(
                job=claimed,
                options=ScanOptions.merge(run.options, claimed.options),
                schemes=list(self.config.schemes),
            )
            scan.validators = claimed.validators
            scan.remembered = tuple(
                url
                for url, known in scan.validators.items()
                if known.get("discovery_method") == DiscoveryMethod.WELL_KNOWN
            )
            self.crawler.signals.send_catch_log(signals.scan_started, scan=scan)
            yield self._robots_request(scan)

    # --- requests -----------------------------------------------------------------------

    def _request(
        self, scan: Scan, url: str, step: Step, headers: dict | None = None, **meta: Any
    ) -> Request:
        """A request of the scan's. Its meta keys, prefixed as scrapy-playwright prefixes its
        own: `scrapersky_scan` (the Scan), `scrapersky_step` (a Step), `scrapersky_robots_rules`
        (what RobotsRulesMiddleware obeys); a sitemap's `scrapersky_discovery`,
        `scrapersky_parent`, `scrapersky_depth`, `scrapersky_ancestors` (the sitemaps that led to
        it, for loops), `scrapersky_queued` (it took a download slot), and, set while it is read,
        `scrapersky_content_digest`, `scrapersky_listing_diff`, `scrapersky_capped`."""
        scan.pending += 1
        return Request(
            url,
            callback=self._dispatch,
            errback=self._dispatch_error,
            dont_filter=True,
            headers=headers,
            meta={
                "scrapersky_scan": scan,
                "scrapersky_step": step,
                "handle_httpstatus_list": STATUSES,
                # What RobotsRulesMiddleware obeys (see scrapersky.middlewares).
                "scrapersky_robots_rules": scan.robots,
                **meta,
            },
        )

    def _robots_request(self, scan: Scan) -> Request:
        scheme = scan.schemes.pop(0)
        # With another scheme left to try, falling back is the retry.
        return self._request(
            scan,
            f"{scheme}://{scan.host}/robots.txt",
            Step.ROBOTS,
            dont_obey_robotstxt=True,
            dont_retry=bool(scan.schemes),
        )

    def _move_to_www(self, scan: Scan, reason: str) -> Request | None:
        """Start the scan again on www.<domain> when the bare host gave nothing (unreachable, or no
        homepage): many sites answer only there. None once that was tried; base_url records the
        host that answered, while the stored domain keeps its bare name."""
        if scan.on_www:
            return None
        scan.on_www = True
        scan.bare_failure = reason
        scan.schemes = list(self.config.schemes)
        return self._robots_request(scan)

    def _www_reason(self, scan: Scan, reason: str) -> str:
        """reason, after what the bare host said when the scan had moved to www."""
        return f"{scan.bare_failure}; {scan.host}: {reason}" if scan.bare_failure else reason

    def _fetch_sitemap(self, scan: Scan, found: FoundSitemap) -> Iterator[Request]:
        """Request a sitemap, or queue it while SCRAPERSKY_SITEMAPS_IN_FLIGHT of the scan's are
        downloading: sitemaps are parsed one at a time, and every body waiting its turn (up to
        50 MB each) is held in memory. A queued sitemap costs its URL and a shared tuple, not a
        Request. No scan reads more than SCRAPERSKY_MAX_SITEMAPS sitemaps, whatever its indexes
        fan out to."""
        if len(scan.seen_sitemaps) >= self.config.max_sitemaps:
            if not scan.sitemap_cap_reached:
                scan.sitemap_cap_reached = True
                scan.note(
                    f"sitemap cap {self.config.max_sitemaps} reached: later sitemaps were not read"
                )
            return
        scan.seen_sitemaps.add(found.url)
        scan.sitemaps_known += 1
        scan.queued_sitemaps.append(found)
        yield from self._release_sitemaps(scan)

    def _release_sitemaps(self, scan: Scan) -> Iterator[Request]:
        while scan.queued_sitemaps and scan.sitemaps_fetching < self.config.sitemaps_in_flight:
            scan.sitemaps_fetching += 1
            yield self._sitemap_request(scan, scan.queued_sitemaps.popleft(), queued=True)
        if not scan.queued_sitemaps and not scan.sitemaps_fetching:
            yield from self._guess(scan)

    def _guess(self, scan: Scan) -> Iterator[Request]:
        """The next round of well-known guesses, once everything that could make one needless
        is read: the homepage (its generator and links), every declared sitemap and every index
        they lead to, and the previous round. What to ask is sitemaps.discovery.next_guesses'
        decision; a round's guesses go out together."""
        if not scan.base_url or not scan.homepage_done or scan.guesses_in_flight:
            return
        state = GuessState(
            base_url=scan.base_url,
            found=scan.found_sitemap,
            generators=scan.generators,
            news=looks_like_news(scan.metadata.get("structured_data")),
            remembered=scan.remembered,
            asked=frozenset(scan.seen_sitemaps),
            missing=frozenset(scan.guess_missing),
            rounds=scan.guess_rounds,
        )
        number, urls = next_guesses(state)
        if urls:
            scan.guess_rounds = number
        for url in urls:
            if len(scan.seen_sitemaps) >= self.config.max_sitemaps:
                break
            scan.seen_sitemaps.add(url)
            scan.guesses_in_flight += 1
            yield self._sitemap_request(scan, FoundSitemap(url, DiscoveryMethod.WELL_KNOWN))

    def _sitemap_request(self, scan: Scan, found: FoundSitemap, queued: bool = False) -> Request:
        url, discovery = found.url, found.discovery
        headers = {}
        known = scan.validators.get(url)
        if known and known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known and known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        return self._request(
            scan,
            url,
            Step.SITEMAP,
            headers=headers,
            scrapersky_discovery=discovery,
            scrapersky_parent=found.parent,
            scrapersky_depth=found.depth,
            scrapersky_ancestors=(*found.ancestors, url),
            scrapersky_queued=queued,
            dont_obey_robotstxt=discovery != DiscoveryMethod.WELL_KNOWN,
        )

    # --- dispatch: every response and failure ends in _done -------------------------------

    async def _dispatch(self, response: Response) -> AsyncIterator[Any]:
        scan: Scan = response.meta["scrapersky_scan"]
        step = response.meta["scrapersky_step"]
        _count_requests(scan, response.meta)
        handler = {
            Step.ROBOTS: self.on_robots,
            Step.HOMEPAGE: self.on_homepage,
            Step.FAVICON: self.on_favicon,
            Step.SITEMAP: self.on_sitemap,
            Step.PAGE: self.on_page,
        }[step]
        outputs = handler(response, scan)
        try:
            if step == Step.SITEMAP:
                # One sitemap is read at a time: with several at once, every turn of the
                # reactor would run a slice of each before anything else got a turn.
                async with self.parsing:
                    await self._diff_listing(response, scan)
                    async for output in _paced(outputs):
                        yield output
            else:
                for output in outputs:
                    yield output
        except Exception as exc:  # a bug must cost one step, never the scan's bookkeeping
            self.logger.exception("%s: %s step failed on %s", scan.domain, step, response.url)
            scan.note(f"{step}: {type(exc).__name__}: {exc}")
            scan.sitemap_failures += step in (Step.ROBOTS, Step.SITEMAP)
        for output in self._step_done(scan, response.meta):
            yield output
        for output in self._done(scan):
            yield output

    def _dispatch_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request
        scan: Scan = request.meta["scrapersky_scan"]
        reason = _failure_reason(failure)
        step = request.meta["scrapersky_step"]
        if not failure.check(RobotsForbidden):  # refused before it was sent
            _count_requests(scan, request.meta)
        if step == Step.ROBOTS:
            if scan.schemes:
                yield self._robots_request(scan)
            else:
                on_www = self._move_to_www(scan, f"unreachable: {reason}")
                if on_www is not None:
                    yield on_www
                else:
                    scan.fail(self._www_reason(scan, f"unreachable: {reason}"))
        elif step == Step.HOMEPAGE and failure.check(RobotsForbidden):
            # The inventory does not need the homepage: not reading it is a note, not a failure.
            scan.homepage_done = True
            scan.note("homepage: not read, robots.txt disallows it")
        elif step == Step.HOMEPAGE:
            on_www = self._move_to_www(scan, f"homepage: {reason}")
            if on_www is not None:
                yield on_www
            else:
                scan.homepage_done = True
                scan.fail(self._www_reason(scan, f"homepage: {reason}"))
        elif step == Step.SITEMAP:
            scan.sitemaps_done += request.meta["scrapersky_discovery"] != DiscoveryMethod.WELL_KNOWN
            scan.sitemap_failures += 1
            if request.meta["scrapersky_discovery"] in DECLARED:
                yield self._file_item(scan, _first_url(request), request.meta, error=reason)
            else:
                scan.guess_missing.add(_first_url(request))
        elif step == Step.PAGE:
            scan.pages_done += 1
            yield PageItem(scan.tenant_id, scan.domain, _first_url(request), None, fetched_at=now())
        yield from self._step_done(scan, request.meta)
        yield from self._done(scan)

    def _step_done(self, scan: Scan, meta: dict) -> Iterator[Request]:
        """A queued sitemap's download slot is free, a guess answered, or the homepage was
        read: start the next sitemap, or the next round of guesses."""
        if meta["scrapersky_step"] == Step.SITEMAP and meta.get("scrapersky_queued"):
            scan.sitemaps_fetching -= 1
        elif (
            meta["scrapersky_step"] == Step.SITEMAP
            and meta["scrapersky_discovery"] == DiscoveryMethod.WELL_KNOWN
        ):
            scan.guesses_in_flight -= 1
        elif meta["scrapersky_step"] != Step.HOMEPAGE:
            return
        yield from self._release_sitemaps(scan)

    def _done(self, scan: Scan) -> Iterator[Any]:
        scan.pending -= 1
        if scan.pending > 0:
            return
        self.slots.release()
        status = JobStatus.FAILED if scan.error else JobStatus.COMPLETE
        metadata = dict(scan.metadata)
        metadata["scan"] = scan.result()
        yield DomainItem(
            tenant_id=scan.tenant_id,
            domain=scan.domain,
            status=status,
            last_scan=now(),
            last_error=scan.error or ("; ".join(scan.notes[:5]) or None),
            metadata=metadata,
            sitemap_urls=scan.urls_listed,
            total_sitemaps=scan.sitemaps_known,
            job_id=scan.job.job_id,
            homepage_read=scan.homepage_read,
            sitemaps_complete=not scan.error and not scan.sitemap_failures,
        )

    # --- steps --------------------------------------------------------------------------

    def on_robots(self, response: Response, scan: Scan) -> Iterator[Any]:
        scan.base_url = _origin(response.url)
        declared: list[str] = []
        if response.status == 200:
            declared = sitemaps_from_robots(response.body, response.url)
            scan.robots = Protego.parse(response.body.decode("utf-8", "replace"))
        elif response.status not in (404, 410):
            scan.sitemap_failures += 1  # robots.txt may name sitemaps we cannot see
        yield self._request(scan, scan.base_url + "/", Step.HOMEPAGE)
        # Well-known paths are guessed once the homepage and these are read (see _guess).
        for url in declared:
            if url not in scan.seen_sitemaps:
                yield from self._fetch_sitemap(scan, FoundSitemap(url, DiscoveryMethod.ROBOTS_TXT))

    def on_homepage(self, response: Response, scan: Scan) -> Iterator[Any]:
        rendered = response.meta.get("playwright", False)
        if response.status >= 400:
            on_www = self._move_to_www(scan, f"homepage: HTTP {response.status}")
            if on_www is not None:
                yield on_www
                return
            scan.homepage_done = True
            reason = self._www_reason(scan, f"homepage: HTTP {response.status}")
            if response.status >= 500:
                scan.fail(reason)
            else:
                scan.note(reason)
            return
        # Scrapy's headers as they are: repeated Set-Cookie values are fingerprints too.
        metadata = extract_metadata(response.body, response.url, response.headers)
        if not rendered and self.rendering and wants_render(scan.options.render, metadata):
            yield self._request(scan, response.url, Step.HOMEPAGE, playwright=True)
            return
        scan.homepage_done = True
        scan.homepage_read = True
        scan.metadata = {**metadata, "rendered": rendered, "homepage_url": response.url}
        hints = homepage_hints(response.body, response.url)
        scan.generators = site_generators(metadata.get("tech_stack"), hints.generators)
        for url in hints.sitemaps:
            if url not in scan.seen_sitemaps:
                yield from self._fetch_sitemap(scan, FoundSitemap(url, DiscoveryMethod.HTML_LINK))
        if metadata.get("favicon_probe"):
            yield self._request(scan, scan.base_url + "/favicon.ico", Step.FAVICON)

    def on_favicon(self, response: Response, scan: Scan) -> Iterator[Any]:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if response.status == 200 and response.body and "html" not in content_type:
            scan.metadata["favicon_url"] = response.url
        return iter(())

    def on_page(self, response: Response, scan: Scan) -> Iterator[Any]:
        scan.pages_done += 1
        summary = {}
        if (
            response.status < 400
            and b"html" in response.headers.get(b"Content-Type", b"html").lower()
        ):
            summary = extract_page_summary(response.body, response.url, response.headers)
        yield PageItem(
            scan.tenant_id,
            scan.domain,
            _first_url(response.request),
            response.status,
            title=summary.get("title"),
            description=summary.get("description"),
            fetched_at=now(),
        )

    def on_sitemap(self, response: Response, scan: Scan) -> Iterator[Any]:
        meta = response.meta
        url = _first_url(response.request)
        discovery = meta["scrapersky_discovery"]
        if discovery != DiscoveryMethod.WELL_KNOWN:
            scan.sitemaps_done += 1
        if response.url != url and response.url in meta["scrapersky_ancestors"]:
            scan.sitemap_failures += 1
            yield self._file_item(
                scan,
                url,
                meta,
                status=response.status,
                error="redirect loop back to an ancestor sitemap",
            )
            return
        if response.url != url:
            if response.url in scan.seen_sitemaps:
                if discovery in DECLARED:
                    yield self._file_item(
                        scan,
                        url,
                        meta,
                        status=response.status,
                        error="redirects to a sitemap already read",
                    )
                return
            scan.seen_sitemaps.add(response.url)
        if response.status == 304:
            yield from self._unchanged_sitemap(scan, url, meta, 304)
            return
        if response.status >= 400:
            # A guessed path that is not there is no failure; a declared one, or a server error, is.
            scan.sitemap_failures += discovery in DECLARED or response.status >= 500
            if discovery in DECLARED:
                yield self._file_item(
                    scan, url, meta, status=response.status, error=f"HTTP {response.status}"
                )
            else:
                scan.guess_missing.add(url)
            return
        digest = meta.get("scrapersky_content_digest") or _digest(response.body)
        if discovery == DiscoveryMethod.WELL_KNOWN and digest in scan.read_digests:
            return  # a guessed path serving a sitemap already read under its own name
        if scan.validators.get(url, {}).get("content_digest") == digest:
            # The server cannot say whether it changed (no ETag or Last-Modified), but the bytes say it did not.
            yield from self._unchanged_sitemap(scan, url, meta, response.status)
            return
        headers = _headers(response)
        diff: ListingDiff | None = meta.get("scrapersky_listing_diff")
        sitemap = None
        if diff is None:
            sitemap = open_sitemap(response.body, url=response.url, max_bytes=self.config.max_bytes)
            if sitemap.kind is None:
                if discovery in DECLARED:
                    scan.sitemap_failures += 1
                    yield self._file_item(
                        scan, url, meta, status=response.status, error="not a sitemap"
                    )
                else:
                    scan.guess_missing.add(url)
                return
        if discovery == DiscoveryMethod.WELL_KNOWN:
            scan.sitemaps_known += 1
            scan.sitemaps_done += 1
        scan.read_digests.add(digest)
        scan.found_sitemap = True
        validators = {
            "etag": headers.get("etag"),
            "last_modified": headers.get("last-modified"),
            "content_digest": digest,
        }
        if sitemap is None:
            assert diff is not None
            yield from self._list_changes(scan, diff, url)
            yield self._file_item(
                scan,
                url,
                meta,
                status=response.status,
                sitemap_type="urlset",
                url_count=diff.count,
                size_bytes=len(response.body),
                is_gzipped=is_gzip(response.body),
                complete=True,
                listing=keepable(response.body),
                vanished=diff.vanished,
                **validators,
            )
            return
        if sitemap.kind == "index":
            yield from self._follow_index(scan, sitemap.entries(), url, meta)
        else:
            yield from self._list_pages(scan, sitemap, url, meta)
        error = sitemap.error
        if sitemap.deviations:
            deviations = "; ".join(
                f"{kind} ({count})" for kind, count in sitemap.deviations.items()
            )
            scan.note(f"{url}: {deviations}")
            error = (
                f"{error}; {deviations}" if error else f"deviates from the protocol: {deviations}"
            )
        complete = not sitemap.error and not meta.get("scrapersky_capped")
        scan.sitemap_failures += not complete
        # Kept for the next rescan's diff when it lists what the stored pages will hold.
        kept = sitemap.kind == "urlset" and complete and not sitemap.deviations
        yield self._file_item(
            scan,
            url,
            meta,
            status=response.status,
            sitemap_type=sitemap.kind,
            url_count=sitemap.count,
            size_bytes=len(response.body),
            is_gzipped=sitemap.is_gzipped,
            error=error,
            complete=complete,
            listing=keepable(response.body) if kept else None,
            **validators,
        )

    async def _diff_listing(self, response: Response, scan: Scan) -> None:
        """For a urlset whose last complete reading was kept, answered in full now: work out in a
        thread what changed (scrapersky.sitemaps.diff), for on_sitemap to list only that. Not
        while pages are still to be fetched (those are picked from the whole listing), nor for
        a feed export."""
        known = scan.validators.get(_first_url(response.request), {})
        if (
            not self.config.diffs
            or response.status != 200
            or not known.get("listing_id")
            or scan.options.max_pages > scan.pages_queued
        ):
            return
        try:
            response.meta["scrapersky_content_digest"], diff = await asyncio.to_thread(
                _listing_diff,
                self.config.database_url,
                known,
                response.body,
                response.url,
                min(self.config.max_bytes, DIFF_MAX_BYTES),
            )
        except Exception as exc:  # the kept reading is an optimisation: read in full instead
            self.logger.warning("%s: no diff of %s: %s", scan.domain, response.url, exc)
            return
        if diff is not None:
            self.crawler.stats.inc_value("scrapersky/sitemaps/diffed")
            response.meta["scrapersky_listing_diff"] = diff

    def _follow_index(self, scan: Scan, entries, url: str, meta: dict) -> Iterator[Any]:
        depth = meta["scrapersky_depth"] + 1
        for entry in entries:
            if scan.sitemap_cap_reached:
                # Children left unread: this index was not read completely, so nothing it lists
                # may be taken as removed.
                meta["scrapersky_capped"] = True
                break
            if not isinstance(entry, SitemapRef) or entry.url in scan.seen_sitemaps:
                continue
            if depth > self.config.max_depth:
                meta["scrapersky_capped"] = True
                scan.note(f"sitemap depth cap {self.config.max_depth} reached at {url}")
                break
            yield from self._fetch_sitemap(scan, _child(entry.url, url, depth, meta))

    def _list_pages(self, scan: Scan, sitemap, url: str, meta: dict) -> Iterator[Any]:
        chunk: list[PageEntry] = []
        misplaced: list[SitemapRef] = []  # <sitemap> elements in a urlset, followed once it is read
        budget = scan.options.max_pages - scan.pages_queued
        for count, entry in enumerate(sitemap.entries(), 1):
            if count % CHECKPOINT_EVERY == 0:
                yield CHECKPOINT
            if not isinstance(entry, PageEntry):
                misplaced.append(entry)
                continue
            chunk.append(entry)
            if budget > 0:
                budget -= 1
                scan.pages_queued += 1
                yield self._request(scan, entry.url, Step.PAGE)
            if len(chunk) >= self.config.chunk:
                scan.urls_listed += len(chunk)
                yield PageBatchItem(scan.tenant_id, scan.domain, url, chunk)
                chunk = []
        if chunk:
            scan.urls_listed += len(chunk)
            yield PageBatchItem(scan.tenant_id, scan.domain, url, chunk)
        yield from self._follow_index(scan, misplaced, url, meta)

    def _list_changes(self, scan: Scan, diff: ListingDiff, url: str) -> Iterator[Any]:
        """What a diff found new or changed; the rest stays listed as stored."""
        scan.urls_listed += diff.count - len(diff.changed)
        for start in range(0, len(diff.changed), self.config.chunk):
            chunk = diff.changed[start : start + self.config.chunk]
            scan.urls_listed += len(chunk)
            yield PageBatchItem(scan.tenant_id, scan.domain, url, chunk)

    def _unchanged_sitemap(self, scan: Scan, url: str, meta: dict, status: int) -> Iterator[Any]:
        known = scan.validators.get(url, {})
        if known.get("content_digest"):
            scan.read_digests.add(known["content_digest"])  # a guessed copy of it is still a copy
        if known.get("sitemap_type") != "index":  # an index counts its sitemaps, not URLs
            scan.urls_listed += known.get("url_count") or 0
        scan.sitemaps_unchanged += 1
        scan.found_sitemap = True
        yield self._file_item(scan, url, meta, status=status, unchanged=True)
        # An index that did not change may still have children that did.
        for child in known.get("children", []):
            if child not in scan.seen_sitemaps:
                yield from self._fetch_sitemap(
                    scan, _child(child, url, meta["scrapersky_depth"] + 1, meta)
                )

    def _file_item(
        self,
        scan: Scan,
        url: str,
        meta: dict,
        *,
        status: int | None = None,
        error: str | None = None,
        **fields: Any,
    ) -> SitemapFileItem:
        return SitemapFileItem(
            tenant_id=scan.tenant_id,
            domain=scan.domain,
            url=url,
            discovery_method=meta["scrapersky_discovery"],
            parent_url=meta.get("scrapersky_parent"),
            status_code=status,
            error_message=error,
            fetched_at=now(),
            **fields,
        )


def _count_requests(scan: Scan, meta: dict) -> None:
    """Count a finished request under its discovery step, with its redirect hops and retries."""
    step = meta["scrapersky_step"]
    name = SITEMAP_STEP[meta["scrapersky_discovery"]] if step == Step.SITEMAP else str(step)
    if name in scan.requests:
        scan.requests[name] += 1 + len(meta.get("redirect_urls") or ()) + meta.get("retry_times", 0)


def _listing_diff(
    database_url: str, known: dict[str, Any], body: bytes, url: str, max_bytes: int
) -> tuple[str, ListingDiff | None]:
    """The body's digest, and what changed since the kept reading (None: read it in full)."""
    digest = _digest(body)
    if digest == known.get("content_digest"):
        return digest, None  # the same bytes: on_sitemap takes it as unchanged
    # Both reads in one read transaction (one connection), the diff computed in between.
    with session_scope(database_url) as session:
        previous = history.sitemap_listing(session, known["listing_id"])
        if previous is None:
            return digest, None
        diff = listing_diff(previous, known["url_count"], body, url=url, max_bytes=max_bytes)
        if diff is not None and history.stored_pages(
            session, known["domain_id"], known["listing_id"], diff.added
        ):
            return digest, None  # an added URL is still listed by an element found again: twice
    return digest, diff


def _digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


async def _paced(outputs: Iterator[Any]) -> AsyncIterator[Any]:
    """Yield from a long-running generator, giving the reactor a turn every SLICE_SECONDS:
    reading a 50,000-URL sitemap takes a few hundred milliseconds, and its items come only
    every SCRAPERSKY_PAGE_CHUNK URLs, so the generator also yields CHECKPOINTs in between."""
    pause_at = time.monotonic() + SLICE_SECONDS
    for output in outputs:
        if output is not CHECKPOINT:
            yield output
        if time.monotonic() > pause_at:
            await asyncio.sleep(0)
            pause_at = time.monotonic() + SLICE_SECONDS


def _child(url: str, index_url: str, depth: int, index_meta: dict) -> FoundSitemap:
    """A sitemap that the index at index_url lists."""
    return FoundSitemap(
        url, DiscoveryMethod.SITEMAP_INDEX, index_url, depth, index_meta["scrapersky_ancestors"]
    )


def _first_url(request: Request) -> str:
    """The URL as discovered, before any redirect."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1").lower(): v[-1].decode("latin-1")
        for k, v in response.headers.items()
        if v
    }


def _origin(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _failure_reason(failure: Failure) -> str:
    value = _root_cause(failure.value)
    return first_line(str(value)) or type(value).__name__


def _root_cause(error: BaseException) -> BaseException:
    """Twisted wraps a response's failure (a header cap, a dropped connection) in ResponseFailed,
    whose text is a list of Failure reprs; the first reason inside says what happened."""
    cause = error.__cause__
    reasons = getattr(cause, "reasons", None)
    if reasons:
        return reasons[0].value
    return error
