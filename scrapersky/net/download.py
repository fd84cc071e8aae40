"""Scrapy's HTTP/1.1 download handler with bounded response headers, which hands a proxy
the checked address instead of the host name (scrapersky.net.handoff).

DOWNLOAD_MAXSIZE counts the body only, and Twisted's response parser keeps every header
line it is sent (continuation lines included) until the blank line that ends them: a server
can make a crawl hold gigabytes before its first body byte. This handler ends a response
whose header section passes SCRAPERSKY_MAX_HEADER_BYTES or SCRAPERSKY_MAX_HEADERS lines.

Scrapy offers no setting or hook for the response parser; it swaps its own lenient parser
in the same way (scrapy.core.downloader.handlers.http11, Scrapy 2.19, pinned), and this
module extends those classes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)
from scrapy.exceptions import ResponseDataLossError
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

from scrapersky.core.errors import RemoteFailed
from scrapersky.net.handoff import AddressedAgent
from scrapersky.net.policy import policy_from_settings

logger = logging.getLogger(__name__)


class HeadersTooLarge(RemoteFailed):
    """A response's header section passed a cap; str() is the one-line reason."""


@dataclass(frozen=True)
class HeaderLimits:
    max_bytes: int
    max_lines: int

    @classmethod
    def from_settings(cls, settings) -> HeaderLimits:
        return cls(
            settings.getint("SCRAPERSKY_MAX_HEADER_BYTES"),
            settings.getint("SCRAPERSKY_MAX_HEADERS"),
        )


class _BoundedHeadersParser(_LenientHTTPClientParser):
    limits: HeaderLimits
    _header_bytes = 0
    _header_lines = 0

    def lineReceived(self, line: bytes) -> None:
        self._header_bytes += len(line) + 2
        self._header_lines += 1
        if self._header_bytes > self.limits.max_bytes:
            raise HeadersTooLarge(f"response headers larger than {self.limits.max_bytes} bytes")
        if self._header_lines > self.limits.max_lines + 1:  # + the status line
            raise HeadersTooLarge(f"more than {self.limits.max_lines} response header lines")
        super().lineReceived(line)

    def lineLengthExceeded(self, line: bytes) -> None:
        raise HeadersTooLarge(f"a response header line longer than {self.MAX_LENGTH} bytes")


class _BoundedHeadersProtocol(_LenientHTTP11ClientProtocol):
    def __init__(self, limits: HeaderLimits, quiescentCallback) -> None:
        super().__init__(quiescentCallback)
        self.limits = limits

    def request(self, request):
        answer = super().request(request)
        self._parser.__class__ = _BoundedHeadersParser
        self._parser.limits = self.limits
        return answer


class _BoundedHeadersFactory(_LenientHTTP11ClientFactory):
    def __init__(self, limits: HeaderLimits, quiescentCallback, metadata) -> None:
        super().__init__(quiescentCallback, metadata)
        self.limits = limits

    def buildProtocol(self, addr):
        return _BoundedHeadersProtocol(self.limits, self._quiescentCallback)


class GuardedDownloadHandler(HTTP11DownloadHandler):
    """HTTP11DownloadHandler whose connections refuse oversized response headers, and whose
    proxied requests name the address the guard checked (with the guard on)."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._pool._factory = partial(
            _BoundedHeadersFactory, HeaderLimits.from_settings(crawler.settings)
        )
        self._policy = policy_from_settings(crawler.settings)

    async def download_request(self, request):
        if self._policy is None or not request.meta.get("proxy"):
            return await super().download_request(request)
        # HTTP11DownloadHandler.download_request, with the agent that hands the proxy the address.
        agent = AddressedAgent(
            policy=self._policy,
            contextFactory=self._contextFactory,
            bindAddress=self._bind_address,
            pool=self._pool,
            maxsize=self._default_maxsize,
            warnsize=self._default_warnsize,
            fail_on_dataloss=self._fail_on_dataloss,
            crawler=self._crawler,
            tls_verbose_logging=self._tls_verbose_logging,
        )
        try:
            with wrap_twisted_exceptions():
                return await maybe_deferred_to_future(agent.download_request(request))
        except ResponseDataLossError:
            if not self._fail_on_dataloss_warned:
                logger.warning(get_dataloss_msg(request.url))
                self._fail_on_dataloss_warned = True
            raise
