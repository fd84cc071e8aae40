"""The name resolver Scrapy connects through, with the address policy applied to its answers.

Scrapy resolves a host name once, when it opens the connection, through the resolver
installed in the reactor (TWISTED_DNS_RESOLVER). Checking the answer there checks the very
address the connection then uses: a name that resolves to a public address for one lookup
and to loopback for the next (DNS rebinding) cannot slip between a check and a connect. A
lookup that fails is a failed connection, so the guard fails closed by construction.

Like Scrapy's default resolver it is IPv4 only (socket.gethostbyname): a name with only
AAAA records is unreachable. IP literals never reach a resolver; PrivateNetworkGuard checks
those. The configured HTTP proxies are exempt: an operator chose them.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Sequence
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from scrapersky.core.errors import Refused
from scrapersky.net.policy import AddressPolicy, AddressRefused, policy_from_settings


class RefusedLookup(DNSLookupError, Refused):
    """A name resolved to an address the policy refuses."""

    def __init__(self, refused: AddressRefused) -> None:
        super().__init__(str(refused))
        self.refused = refused


def proxy_hosts() -> frozenset[str]:
    """Host names of the HTTP proxies configured in the environment (http_proxy, https_proxy)."""
    return frozenset(
        (urlsplit(url).hostname or "").lower() for url in urllib.request.getproxies().values()
    ) - {""}


@implementer(IResolverSimple)
class GuardedResolver(CachingThreadedResolver):
    def __init__(
        self,
        reactor,
        cache_size: int,
        timeout: float,
        policy: AddressPolicy | None,
        exempt: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy
        self.exempt = exempt

    @classmethod
    def from_crawler(cls, crawler, reactor):
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor,
            cache_size,
            settings.getfloat("DNS_TIMEOUT"),
            policy_from_settings(settings),
            proxy_hosts(),
        )

    def getHostByName(self, name: str, timeout: Sequence[int] = ()):
        answer = super().getHostByName(name, timeout)
        if self.policy is not None and name.lower() not in self.exempt:
            answer.addCallback(self._checked, name)
        return answer

    def _checked(self, address: str, name: str) -> str:
        try:
            return self.policy.check(name, address)
        except AddressRefused as refused:
            raise RefusedLookup(refused) from None
