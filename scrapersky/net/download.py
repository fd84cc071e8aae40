"""Scrapy's HTTP/1.1 download handler with bounded response headers.

DOWNLOAD_MAXSIZE counts the body only, and Twisted's response parser keeps every header
line it is sent (continuation lines included) until the blank line that ends them: a server
can make a crawl hold gigabytes before its first body byte. This handler ends a response
whose header section passes SCRAPERSKY_MAX_HEADER_BYTES or SCRAPERSKY_MAX_HEADERS lines.

Scrapy offers no setting or hook for the response parser; it swaps its own lenient parser
in the same way (scrapy.core.downloader.handlers.http11, Scrapy 2.19, pinned), and this
module extends those classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from scrapy.core.downloader.handlers.http11 import (
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _LenientHTTPClientParser,
)


class HeadersTooLarge(Exception):
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
    """HTTP11DownloadHandler whose connections refuse oversized response headers."""

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._pool._factory = partial(
            _BoundedHeadersFactory, HeaderLimits.from_settings(crawler.settings)
        )
