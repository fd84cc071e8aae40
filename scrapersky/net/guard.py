"""PrivateNetworkGuard, the downloader middleware of the trust boundary: no request of a crawl
reaches a non-public address. `scrapersky.middlewares.PrivateNetworkGuard` still names it."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_to_future
from twisted.internet import reactor

from scrapersky.core.errors import Refused
from scrapersky.net.browser_proxy import REFUSED_MARKER
from scrapersky.net.handoff import ADDRESS
from scrapersky.net.policy import AddressPolicy, AddressRefused, ip_literal, policy_from_settings
from scrapersky.net.resolver import RefusedLookup

SCHEMES = ("http", "https")


class RefusedAddress(IgnoreRequest, Refused):
    """A request to a non-public address was refused."""


class PrivateNetworkGuard:
    """Refuse requests to hosts that are, or resolve to, non-public addresses (SSRF).

    Runs for every request, redirects included (Scrapy reschedules them through the whole
    chain). IP literals are checked here; names are resolved through the reactor's resolver,
    scrapersky.net.resolver.GuardedResolver, which checks every answer, including the one the
    connection itself uses. A name that cannot be resolved is refused (fail closed), also when
    an HTTP proxy would resolve it: a proxy must not reach what the crawler may not. The checked
    address goes with the request (meta ADDRESS): an HTTP proxy is handed it instead of the name.

    Rendered responses are checked again on the URL Chromium ended on, and on the refusal page
    of the browser's guard proxy (scrapersky.net.browser_proxy), so a page that navigates itself
    to an internal address is a refused homepage, never stored metadata.
    """

    def __init__(self, policy: AddressPolicy, stats) -> None:
        self.policy = policy
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        policy = policy_from_settings(crawler.settings)
        if policy is None:
            raise NotConfigured
        return cls(policy, crawler.stats)

    async def process_request(self, request: Request):
        # Set for every request (a redirect's copy carries its source's): a proxy is handed
        # this address, never the name (scrapersky.net.handoff).
        request.meta[ADDRESS] = await self._check_url(request.url)
        return None

    async def process_response(self, request: Request, response: Response):
        if "playwright" not in response.flags:
            return response
        if REFUSED_MARKER in response.body:
            self.stats.inc_value("scrapersky/refused/browser")
            raise RefusedAddress(f"refused by the browser's address policy: {response.url}")
        await self._check_url(response.url)
        return response

    async def _check_url(self, url: str) -> str:
        """The address the URL's host is, or resolves to, once checked; RefusedAddress otherwise."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise RefusedAddress(f"refused: {parts.scheme}: URLs are not fetched")
        host = parts.hostname or ""
        try:
            address = ip_literal(host)
            if address is None:
                address = await deferred_to_future(reactor.resolve(host))
            return self.policy.check(host, address)
        except (AddressRefused, RefusedLookup) as exc:
            refused = exc if isinstance(exc, AddressRefused) else exc.refused
            self.stats.inc_value(f"scrapersky/refused/{refused.reason}")
            raise RefusedAddress(str(refused)) from None
        except Exception as exc:  # fail closed: no answer is no permission
            self.stats.inc_value("scrapersky/refused/unresolved")
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not message.startswith("DNS lookup failed"):
                message = f"DNS lookup failed for {host or url}: {message}"
            raise RefusedAddress(message) from None
