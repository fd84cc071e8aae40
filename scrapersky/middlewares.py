"""Downloader middlewares: the private-network guard and robots.txt rules."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_to_future
from twisted.internet import reactor

from scrapersky.exceptions import RobotsForbidden


class RefusedAddress(IgnoreRequest):
    """A request to a non-public address was refused."""


def refused_reason(address: str) -> str | None:
    """Why an IP address must not be fetched, or None when it is a public address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for label, test in (
        # Most specific first: Python counts link-local, reserved and unspecified as private too.
        ("loopback", ip.is_loopback), ("link-local", ip.is_link_local), ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast), ("reserved", ip.is_reserved), ("private", ip.is_private),
    ):
        if test:
            return label
    return None if ip.is_global else "non-public"


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class PrivateNetworkGuard:
    """Refuse requests to hosts that are, or resolve to, non-public addresses (SSRF).

    Runs for every request, redirects included (Scrapy reschedules them through the whole
    chain). The host is resolved through the reactor's resolver, which Scrapy caches
    (DNSCACHE_ENABLED), so the connection uses the address checked here unless the cache
    entry expires in between; see the README for what remains (DNS rebinding).
    """

    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getbool("SCRAPERSKY_ALLOW_PRIVATE_NETWORKS"):
            raise NotConfigured
        return cls(crawler.stats)

    async def process_request(self, request: Request):
        host = urlsplit(request.url).hostname or ""
        address = _ip_literal(host)
        if address is None:
            try:
                address = await deferred_to_future(reactor.resolve(host))
            except Exception:
                return None  # unresolvable: the download fails by itself (or a proxy resolves it)
        reason = refused_reason(address)
        if reason:
            self.stats.inc_value(f"scrapersky/refused/{reason}")
            raise RefusedAddress(f"refused: {host} is a {reason} address ({address})")
        return None


class RobotsRulesMiddleware:
    """Obey the robots.txt the spider already read for the scan (ROBOTSTXT_OBEY)."""

    def __init__(self, user_agent: str, stats) -> None:
        self.user_agent = user_agent
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler.settings.get("USER_AGENT"), crawler.stats)

    def process_request(self, request: Request):
        scan = request.meta.get("scan")
        if request.meta.get("dont_obey_robotstxt") or scan is None or scan.robots is None:
            return None
        if not scan.robots.can_fetch(request.url, self.user_agent):
            self.stats.inc_value("scrapersky/robots_forbidden")
            raise RobotsForbidden(f"forbidden by robots.txt: {request.url}")
        return None
