"""One POST to an endpoint a tenant controls, with hard bounds. Plain sockets, no Scrapy.

- The name is resolved once (in a helper thread, so a slow DNS server counts against the
  deadline), every answer is checked by the address policy, and the connection is made to the
  checked address; TLS still verifies the endpoint's name.
- `https` only. Plain `http` is allowed for addresses in the networks the operator allowed
  (SCRAPERSKY_ALLOWED_NETWORKS) or everywhere when `allow_http` is set (tests, development).
- One total deadline covers the lookup, the connection, the TLS handshake, sending the request
  and reading the whole answer: every socket operation gets only the time that is left, so a
  receiver that drips one byte at a time runs out of it like one that never answers.
- At most `max_bytes` of answer (status line, headers and body) are read; a larger one fails.
- Redirects are not followed. The request says `Connection: close`: the answer ends at its
  Content-Length, or when the receiver closes the connection.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from scrapersky.core import errors
from scrapersky.net.policy import AddressPolicy, AddressRefused, ip_literal


class Refused(errors.Refused):
    """The endpoint may never be called as it is (address, scheme, malformed URL): no retry."""


class DeadlineExceeded(errors.RemoteFailed):
    """The exchange did not end within its total deadline."""

    http_status = 504


class AnswerTooLarge(errors.RemoteFailed):
    """The answer went past the size cap."""


class Clock:
    """The time left before a deadline; DeadlineExceeded once there is none."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.at = seconds, time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.exceeded()
        return left

    def exceeded(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"deadline: no complete answer within {self.seconds:g} s")


def post(
    endpoint: str,
    body: bytes,
    headers: dict[str, str],
    *,
    policy: AddressPolicy | None,
    allow_http: bool,
    deadline: float,
    max_bytes: int,
) -> int:
    """POST body to the endpoint within the bounds above; the answer's status code."""
    clock = Clock(deadline)
    parts = urlsplit(endpoint)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        not endpoint.isascii()  # an IDN endpoint is registered in its punycode form
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or port == -1
        or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target)
    ):
        raise Refused(f"not a usable http(s) URL: {endpoint[:200]}")
    tls = parts.scheme == "https"
    port = port or (443 if tls else 80)
    address = _checked_address(parts.hostname, port, policy, clock)
    if not tls and not allow_http and not _operator_allowed(policy, address):
        raise Refused(
            f"refused: {parts.hostname} is plain http; webhooks need https "
            "(http only to SCRAPERSKY_ALLOWED_NETWORKS or with SCRAPERSKY_WEBHOOK_ALLOW_HTTP)"
        )
    request = (
        f"POST {target} HTTP/1.1\r\nHost: {parts.netloc.rpartition('@')[2]}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    ).encode("latin-1") + body
    try:
        sock = socket.create_connection((address, port), timeout=clock.left())
        try:
            if tls:
                sock.settimeout(clock.left())  # the whole handshake: CPython bounds it as one call
                sock = ssl.create_default_context().wrap_socket(
                    sock, server_hostname=parts.hostname
                )
            sock.settimeout(clock.left())  # the whole sendall, likewise
            sock.sendall(request)
            return _read_answer(sock, clock, max_bytes)
        finally:
            sock.close()
    except TimeoutError:
        raise clock.exceeded() from None


def _checked_address(host: str, port: int, policy: AddressPolicy | None, clock: Clock) -> str:
    answers = _resolve(host, port, clock)
    try:
        return sorted(policy.check(host, a) for a in answers)[0] if policy else sorted(answers)[0]
    except AddressRefused as refused:
        raise Refused(str(refused)) from None


def _operator_allowed(policy: AddressPolicy | None, address: str) -> bool:
    """Whether the address is in a network the operator listed (SCRAPERSKY_ALLOWED_NETWORKS)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    networks = policy.allowed if policy else ()
    return any(ip in network for network in networks if network.version == ip.version)


def _resolve(host: str, port: int, clock: Clock) -> set[str]:
    literal = ip_literal(host)
    if literal is not None:
        return {literal}
    found: dict[str, object] = {}

    def lookup() -> None:
        try:
            found["answers"] = {
                info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            }
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
            found["error"] = exc

    # getaddrinfo cannot be interrupted: it finishes in its own (daemon) thread if it must.
    helper = threading.Thread(target=lookup, name="webhook-dns", daemon=True)
    helper.start()
    helper.join(clock.left())
    if helper.is_alive():
        raise clock.exceeded()
    if "error" in found:
        raise OSError(f"DNS lookup failed for {host}: {found['error']}")
    return found["answers"]  # type: ignore[return-value]


def _read_answer(sock: socket.socket, clock: Clock, max_bytes: int) -> int:
    """Read the whole answer (1xx interim answers skipped) within the clock and the cap; its status."""
    buffer, read, status, length = b"", 0, 0, None
    while True:
        if not status and (end := buffer.find(b"\r\n\r\n")) >= 0:
            status, length = _parse_head(buffer[:end])
            buffer = buffer[end + 4 :]
            if 100 <= status < 200:
                status = 0
                continue
        if status and length is not None and len(buffer) >= length:
            return status
        sock.settimeout(clock.left())
        chunk = sock.recv(min(65536, max_bytes + 1 - read))
        if not chunk:
            if status and length is None:
                return status  # no Content-Length: the answer ends with the connection
            raise ConnectionError("the receiver closed the connection before its answer ended")
        read += len(chunk)
        if read > max_bytes:
            raise AnswerTooLarge(f"answer larger than {max_bytes} bytes")
        buffer += chunk  # at most max_bytes in all


def _parse_head(head: bytes) -> tuple[int, int | None]:
    """Status code and Content-Length (None: read to the end) of an answer's head."""
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise ConnectionError(f"not an HTTP answer: {lines[0][:80]!r}")
    status = int(code)
    if status in (204, 304) or 100 <= status < 200:
        return status, 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            if not value.strip().isdigit():
                raise ConnectionError(f"bad Content-Length: {value.strip()[:40]!r}")
            return status, int(value.strip())
    return status, None
