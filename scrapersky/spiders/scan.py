"""The state of one domain's scan inside a run: what is in flight, what was found, how far along."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from scrapersky.config.scan_options import ScanOptions
from scrapersky.core.messages import cut
from scrapersky.db.jobs import ClaimedJob

# The discovery steps whose requests a scan counts: robots.txt, the homepage (rendered or not),
# sitemaps robots.txt or the homepage named, sitemaps an index listed, well-known guesses.
DISCOVERY_STEPS = ("robots", "homepage", "declared", "index_children", "guesses")


@dataclass(eq=False)
class Scan:
    job: ClaimedJob
    options: ScanOptions
    schemes: list[str]
    base_url: str | None = None  # scheme://host of the reachable site, once known
    on_www: bool = False  # the bare host gave nothing, so the scan moved to www.<domain>
    bare_failure: str | None = None  # what the bare host answered before the move
    robots: Any = None  # protego.Protego rules, when robots.txt was readable
    pending: int = 0  # requests in flight; the scan ends when it drops to zero
    error: str | None = None  # why the scan failed, if it did
    notes: list[str] = field(default_factory=list)  # non-fatal problems, kept in domain_metadata
    metadata: dict[str, Any] = field(default_factory=dict)
    seen_sitemaps: set[str] = field(default_factory=set)
    read_digests: set[str] = field(
        default_factory=set
    )  # bodies of the sitemaps read, to skip copies
    queued_sitemaps: deque = field(
        default_factory=deque
    )  # FoundSitemaps waiting for a download slot
    generators: tuple[str, ...] = ()  # what made the site, from its homepage (sitemaps.discovery)
    remembered: tuple[str, ...] = ()  # sitemaps earlier scans found by guessing
    found_sitemap: bool = False  # a sitemap was read (or found unchanged): fewer guesses
    guess_rounds: int = 0  # rounds of well-known guesses asked (sitemaps.discovery.next_guesses)
    guesses_in_flight: int = 0
    guess_missing: set[str] = field(default_factory=set)  # guessed URLs that held no sitemap
    # HTTP requests per discovery step (redirect hops and retries included), for result_data.
    requests: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DISCOVERY_STEPS, 0))
    sitemap_cap_reached: bool = False
    sitemaps_fetching: int = 0
    sitemaps_known: int = 0
    sitemaps_done: int = 0
    sitemaps_unchanged: int = 0  # answered 304, or the same bytes as last time: not read again
    urls_listed: int = 0
    pages_queued: int = 0
    pages_done: int = 0
    homepage_done: bool = False
    homepage_read: bool = False  # the homepage answered and its metadata was extracted
    # Sitemaps (or robots.txt) that could not be read completely: no sitemap counts as gone.
    sitemap_failures: int = 0
    validators: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # scrapersky.db.history, per sitemap

    @property
    def tenant_id(self) -> str:
        return self.job.tenant_id

    @property
    def domain(self) -> str:
        return self.job.domain

    @property
    def host(self) -> str:
        """The host asked: the stored domain, or its www. name once the scan moved there."""
        return f"www.{self.domain}" if self.on_www else self.domain

    def note(self, text: str) -> None:
        """Keep a non-fatal problem with the scan's result."""
        self.notes.append(cut(text))

    def fail(self, reason: str) -> None:
        if self.error is None:
            self.error = reason

    def progress(self) -> float:
        """Discovery 10 %, sitemaps 60 %, homepage 10 %, listed pages 20 %."""
        value = 0.1 if self.base_url else 0.0
        if self.sitemaps_known:
            value += 0.6 * self.sitemaps_done / self.sitemaps_known
        elif self.base_url and self.pending <= 1:
            value += 0.6
        value += 0.1 if self.homepage_done else 0.0
        if self.options.max_pages:
            value += 0.2 * self.pages_done / self.options.max_pages
        elif self.homepage_done:
            value += 0.2
        return min(value, 0.99)

    def result(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "base_url": self.base_url,
            "sitemaps_found": self.sitemaps_known,
            "sitemaps_fetched": self.sitemaps_done,
            "sitemaps_unchanged": self.sitemaps_unchanged,
            "urls_listed": self.urls_listed,
            "pages_fetched": self.pages_done,
            "discovery_requests": {**self.requests, "total": sum(self.requests.values())},
            "guess_rounds": self.guess_rounds,
            "notes": self.notes[:50],
        }
