"""The address policy: which IP addresses a scan may connect to. Pure code, no Scrapy.

One policy serves every connection a crawl opens: Scrapy's (through the name resolver and
the downloader middleware) and Chromium's (through the browser's guard proxy).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapersky.core.errors import ConfigError, Refused

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

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


class AddressRefused(Refused):
    """A connection to a non-public address was refused; str() is the one-line reason."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        where = (
            f"is a {reason} address"
            if host.strip("[]") == address
            else f"resolves to a {reason} address ({address})"
        )
        super().__init__(f"refused: {host} {where}")
        self.host, self.address, self.reason = host, address, reason


# Networks an allowed-network entry must not touch unless forced: a crawl that may reach loopback,
# link-local (cloud metadata) or the unspecified address (0.0.0.0 reaches this machine) can read
# the machine it runs on. The IPv6 forms that carry such an IPv4 address are judged by it.
DANGEROUS_V4 = (
    ("loopback", ipaddress.IPv4Network("127.0.0.0/8")),
    ("link-local", ipaddress.IPv4Network("169.254.0.0/16")),
    ("unspecified", ipaddress.IPv4Network("0.0.0.0/8")),
)
# Where an IPv6 address carries an IPv4 one: (the form's bits around it, where the IPv4 bits start).
IPV4_IN_IPV6 = (
    (0xFFFF << 32, 96),  # IPv4-mapped, ::ffff:a.b.c.d
    (0x64FF9B << 96, 96),  # NAT64, 64:ff9b::a.b.c.d
    (0x2002 << 112, 16),  # 6to4, 2002:aabb:ccdd::
)
DANGEROUS: tuple[tuple[str, Network], ...] = (
    *DANGEROUS_V4,
    ("loopback", ipaddress.IPv6Network("::1/128")),
    ("link-local", ipaddress.IPv6Network("fe80::/10")),
    ("unspecified", ipaddress.IPv6Network("::/128")),
    *(
        (
            label,
            ipaddress.IPv6Network(
                (bits | int(net.network_address) << (96 - start), start + net.prefixlen)
            ),
        )
        for label, net in DANGEROUS_V4
        for bits, start in IPV4_IN_IPV6
    ),
)
# Shorter prefixes than these span far more than any intranet (0.0.0.0/0 is everything).
WIDEST_PREFIX = {4: 8, 6: 8}


class DangerousNetwork(ConfigError):
    """An allowed network that would open the crawl's own machine, or far too much; str() is one line."""


def parse_network(text: str, *, allow_dangerous: bool = False) -> Network:
    """One allowed network in strict CIDR notation. ValueError (one line naming the value) when
    it is not one or has host bits set (10.1.2.3/8 is a typo, never 10.0.0.0/8); DangerousNetwork,
    unless allow_dangerous, when it touches DANGEROUS or is wider than WIDEST_PREFIX."""
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            network = ipaddress.ip_network(text, strict=False)
            raise ValueError(f"{text!r} has host bits set (the network is {network})") from None
        raise ValueError(f"{text!r} is not a network like 10.1.2.0/24") from None
    if allow_dangerous:
        return network
    for label, dangerous in DANGEROUS:
        if network.version == dangerous.version and network.overlaps(dangerous):
            raise DangerousNetwork(f"{text!r} contains {label} addresses ({dangerous})")
    if network.prefixlen < WIDEST_PREFIX[network.version]:
        raise DangerousNetwork(f"{text!r} is wider than /{WIDEST_PREFIX[network.version]}")
    return network


@dataclass(frozen=True)
class AddressPolicy:
    """Refuse non-public addresses, except the networks an operator allowed explicitly."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_text(cls, networks: Iterable[str], *, allow_dangerous: bool = False) -> AddressPolicy:
        """Allowed networks in CIDR notation ('10.1.2.0/24'); ValueError as parse_network."""
        return cls(
            tuple(
                parse_network(text.strip(), allow_dangerous=allow_dangerous)
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


def policy_from_settings(settings: BaseSettings) -> AddressPolicy | None:
    """The crawl's policy, or None when SCRAPERSKY_ALLOW_PRIVATE_NETWORKS switches it off."""
    if settings.getbool("SCRAPERSKY_ALLOW_PRIVATE_NETWORKS"):
        return None
    networks = settings.get("SCRAPERSKY_ALLOWED_NETWORKS") or ""
    if isinstance(networks, str):
        networks = networks.split(",")
    return AddressPolicy.from_text(
        networks, allow_dangerous=settings.getbool("SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS")
    )
