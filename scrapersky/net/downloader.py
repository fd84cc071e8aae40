"""Scrapy's downloader, with a domain's concurrency cap that holds however busy the machine is.

Scrapy 2.19's downloader takes a slot's queued requests while `free_transfer_slots()` is above
zero, but schedules each download as a task and counts it as transferring only when that task
runs. With no download delay, a slot's whole queue starts at once; with one, the next request
is considered as soon as the delay has passed since the last, so a delay shorter than the time
the event loop takes to run the first task (a millisecond on a busy machine) lets a fourth
request through a cap of three. CONCURRENT_REQUESTS_PER_DOMAIN is what a site sees of a crawl's
politeness, so here a request counts as transferring from the moment it leaves the queue.

The loop below is Scrapy 2.19's `Downloader._process_queue` (pinned) with that one line added.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader as ScrapyDownloader
from scrapy.core.downloader import Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class Downloader(ScrapyDownloader):
    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return  # processing resumes when the delay's call comes
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            # Counted now, not when the task runs: `_download` adds it again (a set) and removes
            # it when the download ends.
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one request per delay
                self._process_queue(slot)
                break
