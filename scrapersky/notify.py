"""WebhookSender: delivers the webhooks of job and batch endings while a crawl runs, and once more
when its engine stops (after the last job was recorded), so a scan's caller hears of it at once.
Deliveries left for later (an endpoint that failed) are retried by the next sender that looks:
another run, a Scrapyd node's delivery loop, or `scrapy webhooks deliver`."""

from __future__ import annotations

import asyncio
import logging

from scrapy import signals
from twisted.internet import task

from scrapersky.net.policy import policy_from_settings
from scrapersky.webhooks import deliver_due

logger = logging.getLogger(__name__)
INTERVAL = 2.0


class WebhookSender:
    def __init__(self, url: str, policy, retry_base: float) -> None:
        self.url, self.policy, self.retry_base = url, policy, retry_base
        self.loop: task.LoopingCall | None = None
        self.sending: asyncio.Future | None = None

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        sender = cls(
            settings.get("DATABASE_URL"),
            policy_from_settings(settings),
            settings.getfloat("SCRAPERSKY_WEBHOOK_RETRY_BASE"),
        )
        crawler.signals.connect(sender.engine_started, signal=signals.engine_started)
        crawler.signals.connect(sender.engine_stopped, signal=signals.engine_stopped)
        return sender

    def engine_started(self) -> None:
        self.loop = task.LoopingCall(self._tick)
        self.loop.start(INTERVAL, now=False)

    async def engine_stopped(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.sending is not None:
            await self.sending
        await self._send()

    def _tick(self) -> None:
        if self.sending is None or self.sending.done():
            self.sending = asyncio.ensure_future(self._send())

    async def _send(self) -> None:
        try:
            await asyncio.to_thread(deliver_due, self.url, self.policy, self.retry_base)
        except Exception as exc:  # a database blip: the next tick or sender tries again
            logger.warning("webhook delivery pass failed: %s", exc)
