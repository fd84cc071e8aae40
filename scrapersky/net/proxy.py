"""HttpProxyMiddleware that reads `no_proxy` once, as Scrapy's reads the proxies themselves.

Scrapy's middleware asks urllib's `proxy_bypass` for every request, and on Linux that reads and
lower-cases the whole environment each time: a fiftieth of a scan's CPU when a proxy is set.
The environment is read when the crawl starts, as it is for the proxies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.request import getproxies_environment, proxy_bypass_environment

from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class CachedProxyMiddleware(HttpProxyMiddleware):
    def __init__(self, auth_encoding: str | None = "latin-1") -> None:
        super().__init__(auth_encoding)
        self.environment = getproxies_environment()

    def process_request(self, request: Request, spider=None) -> Request | Response | None:
        if "proxy" in request.meta or not self.proxies:
            return super().process_request(request)
        parsed = urlparse_cached(request)
        scheme = parsed.scheme
        creds = proxy_url = None
        # As Scrapy decides: 'no_proxy' is only for http schemes.
        if (
            scheme not in {"http", "https"}
            or (parsed.hostname and not proxy_bypass_environment(parsed.hostname, self.environment))
        ) and scheme in self.proxies:
            creds, proxy_url = self.proxies[scheme]
        else:
            scheme = None
        self._set_proxy_and_creds(request, proxy_url, creds, scheme)
        return None
