"""The address policy: which IP addresses a scan may connect to. Pure code, no Scrapy.

One policy serves every connection a crawl opens: Scrapy's (through the name resolver and
the downloader middleware) and Chromium's (through the browser's guard proxy).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def refused_reason(address: str) -> str | None:
    """Why an IP address must not be fetched, or None when it is a public address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address inside are judged by it (mapped, 6to4).
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return refused_reason(str(embedded))
    for label, test in (
        # Most specific first: Python counts link-local, reserved and unspecified as private too.
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if test:
            return label
    return None if ip.is_global else "non-public"


def ip_literal(host: str) -> str | None:
    """The canonical address when host is an IP literal (brackets allowed), else None.

    Only the canonical forms count here; the other spellings a resolver accepts (decimal,
    octal, hex, short dotted) are names, and their answers are checked like any other."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class AddressRefused(Exception):
    """A connection to a non-public address was refused; str() is the one-line reason."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        where = (
            f"is a {reason} address"
            if host.strip("[]") == address
            else f"resolves to a {reason} address ({address})"
        )
        super().__init__(f"refused: {host} {where}")
        self.host, self.address, self.reason = host, address, reason


@dataclass(frozen=True)
class AddressPolicy:
    """Refuse non-public addresses, except the networks an operator allowed explicitly."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_text(cls, networks: Iterable[str]) -> AddressPolicy:
        """Allowed networks in CIDR notation ('10.1.2.0/24', '127.0.0.2/32'); ValueError when one is not."""
        return cls(
            tuple(
                ipaddress.ip_network(text.strip(), strict=False)
                for text in networks
                if text.strip()
            )
        )

    def reason(self, address: str) -> str | None:
        """Why the address is refused, or None when a scan may connect to it."""
        reason = refused_reason(address)
        if reason is None:
            return None
        ip = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip in network for network in self.allowed if network.version == ip.version):
            return None
        return reason

    def check(self, host: str, address: str) -> str:
        """The address when allowed; AddressRefused otherwise."""
        reason = self.reason(address)
        if reason:
            raise AddressRefused(host, address, reason)
        return address


def policy_from_settings(settings) -> AddressPolicy | None:
    """The crawl's policy, or None when SCRAPERSKY_ALLOW_PRIVATE_NETWORKS switches it off."""
    if settings.getbool("SCRAPERSKY_ALLOW_PRIVATE_NETWORKS"):
        return None
    networks = settings.get("SCRAPERSKY_ALLOWED_NETWORKS") or ""
    if isinstance(networks, str):
        networks = networks.split(",")
    return AddressPolicy.from_text(networks)
