"""Which `Host` a node answers to: the defence against DNS rebinding.

A page whose name an attacker rebinds to the node's address is same-origin with itself, and its
requests carry its own name in `Host`. The node answers only to IP literals (no rebinding can
produce one: a page on an IP origin is served by that address), `localhost`, its own host
names, and the names of SCRAPERSKY_ALLOWED_HOSTS; any other name is refused before routing.
"""

from __future__ import annotations

import ipaddress
import socket


def own_names(bind_address: str, configured: frozenset[str]) -> frozenset[str]:
    """Names the node answers to: localhost, this machine's names, a named bind address, and
    the configured ones."""
    names = {"localhost", socket.gethostname().lower(), socket.getfqdn().lower(), *configured}
    if bind_address and not _is_ip(bind_address):
        names.add(bind_address.lower())
    return frozenset(name.rstrip(".") for name in names if name)


def host_allowed(value: bytes | None, names: frozenset[str]) -> bool:
    """Whether a request's Host header (name or IP literal, optional port) is one the node answers to."""
    if not value:
        return False
    try:
        text = value.decode("ascii").strip().lower()
    except UnicodeDecodeError:
        return False
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        return bool(closed) and _port(rest) and _is_ip(host)
    host, colon, port = text.partition(":")
    if colon and not port.isdigit():
        return False
    host = host.rstrip(".")
    return bool(host) and (_is_ip(host) or host in names)


def _port(rest: str) -> bool:
    return rest == "" or (rest.startswith(":") and rest[1:].isdigit())


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
