"""Proxied downloads hand the proxy the address the guard checked, never the host name.

Through an HTTP proxy (http_proxy, https_proxy), Scrapy sends the request's host name
(`GET http://name/path`, `CONNECT name:443`) and the proxy resolves it again: a name that
answers the proxy otherwise than it answered the crawler's check (DNS rebinding) would take
the proxy to an internal address. PrivateNetworkGuard records the address it checked in
`request.meta[ADDRESS]`; with a proxy, these agents put that address where Scrapy puts the name:

- plain HTTP: `GET http://<address>:<port>/path`, the request's Host header naming the site;
- HTTPS: `CONNECT <address>:<port>`; TLS inside the tunnel still sends the name (SNI) and
  verifies the certificate against it.

The proxy then has no name to resolve. A proxied request without a checked address, or with
one the policy refuses, is refused (fail closed).

Scrapy has no hook for its agents: these extend the private classes of
scrapy.core.downloader.handlers.http11 (Scrapy 2.19, pinned), as download.py does.
"""

from __future__ import annotations

from scrapy.core.downloader.handlers.http11 import (
    _ScrapyAgent,
    _ScrapyProxyAgent,
    _TunnelingAgent,
    _TunnelingTCP4ClientEndpoint,
)
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from twisted.web.client import URI
from twisted.web.http_headers import Headers

from scrapersky.net.policy import AddressPolicy, AddressRefused

ADDRESS = "scrapersky_address"  # request.meta: the IP address PrivateNetworkGuard checked


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _host_port(address: str, port: int) -> bytes:
    return b"%s:%d" % (_bracketed(address).encode("ascii"), port)


class _AddressedProxyAgent(_ScrapyProxyAgent):
    """Absolute-form requests naming the checked address; the Host header keeps the name."""

    address: str

    def request(self, method, uri, headers=None, bodyProducer=None):
        parsed = URI.fromBytes(uri)
        headers = headers.copy() if headers is not None else Headers()
        if not headers.hasHeader(b"host"):
            headers.addRawHeader(
                b"host", self._computeHostValue(parsed.scheme, parsed.host, parsed.port)
            )
        target = b"%s://%s%s" % (
            parsed.scheme,
            _host_port(self.address, parsed.port),
            parsed.originForm,
        )
        return super().request(method, target, headers, bodyProducer)


class _AddressedTunnelEndpoint(_TunnelingTCP4ClientEndpoint):
    """CONNECT to the checked address; TLS through the tunnel still for the name."""

    def __init__(self, *args, address: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.address = address

    def requestTunnel(self, protocol):
        # Scrapy's requestTunnel writes the CONNECT line for _tunneledHost, at once; TLS starts
        # later, in processProxyResponse, for _tunneledHost too: only the CONNECT line takes
        # the address.
        name, self._tunneledHost = self._tunneledHost, _bracketed(self.address)
        try:
            return super().requestTunnel(protocol)
        finally:
            self._tunneledHost = name


class _AddressedTunnelingAgent(_TunnelingAgent):
    address: str

    def _getEndpoint(self, uri):
        return _AddressedTunnelEndpoint(
            reactor=self._reactor,
            host=uri.host,
            port=uri.port,
            proxyConf=self._proxyConf,
            contextFactory=self._contextFactory,
            timeout=self._endpointFactory._connectTimeout,
            bindAddress=self._endpointFactory._bindAddress,
            address=self.address,
        )


# Scrapy's agent for a proxied request → the one that hands the proxy the address.
_HANDOFF = {_ScrapyProxyAgent: _AddressedProxyAgent, _TunnelingAgent: _AddressedTunnelingAgent}


class AddressedAgent(_ScrapyAgent):
    """Scrapy's per-request agent; a proxied request gets an agent that names the checked address."""

    def __init__(self, *, policy: AddressPolicy, **kwargs) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def _get_agent(self, request, timeout):
        agent = super()._get_agent(request, timeout)
        handoff = _HANDOFF.get(type(agent))
        if handoff is None:  # no proxy: the guarded resolver checks the connection's own answer
            return agent
        host = urlparse_cached(request).hostname or ""
        address = request.meta.get(ADDRESS)
        if address is None:
            raise IgnoreRequest(f"refused: {host} was not checked before going to the proxy")
        try:
            self.policy.check(host, address)
        except AddressRefused as refused:
            raise IgnoreRequest(str(refused)) from None
        # Scrapy built the agent from the request's proxy settings; only its class changes.
        agent.__class__ = handoff
        agent.address = address
        return agent
