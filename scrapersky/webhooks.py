"""Webhook delivery: signed POSTs of job and batch endings, retried with backoff, never to private addresses.

Each request carries `X-ScraperSky-Event`, `X-ScraperSky-Timestamp` and `X-ScraperSky-Signature:
sha256=HEX`, the HMAC-SHA256 of `TIMESTAMP.BODY` under the webhook's secret, so a receiver can
check both origin and freshness. The crawl's address policy applies: the endpoint's name is
resolved once, every answer checked, and the connection made to the checked address (TLS still
verifies the name). Redirects are not followed. A refused or malformed endpoint fails at once;
errors and non-2xx answers are retried after RETRY_BASE × 3^(attempt-1) seconds, up to
db.webhooks.MAX_ATTEMPTS attempts; every attempt is in the delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time
from urllib.parse import urlsplit

from scrapersky import __version__
from scrapersky.db import webhooks as rows
from scrapersky.messages import cut
from scrapersky.net.policy import AddressPolicy, AddressRefused

logger = logging.getLogger(__name__)
RETRY_BASE = 10.0
MAX_RETRY = 3600.0
TIMEOUT = 10.0


class Undeliverable(Exception):
    """The endpoint can never be reached (refused address, bad URL): no retry."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


def post(
    endpoint: str,
    body: bytes,
    headers: dict[str, str],
    policy: AddressPolicy | None,
    timeout: float = TIMEOUT,
) -> int:
    """POST to the endpoint at an address the policy allows; the answer's status code."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Undeliverable(f"not an http(s) URL: {endpoint[:200]}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        answers = {
            info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        }
    except OSError as exc:
        raise OSError(f"DNS lookup failed for {parts.hostname}: {exc}") from None
    try:
        address = (
            sorted(policy.check(parts.hostname, a) for a in answers)[0]
            if policy
            else sorted(answers)[0]
        )
    except AddressRefused as refused:
        raise Undeliverable(str(refused)) from None
    connection = _Pinned(parts.hostname, address, port, timeout, parts.scheme == "https")
    try:
        connection.request(
            "POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers
        )
        response = connection.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        connection.close()


class _Pinned(http.client.HTTPSConnection):
    """A connection to the checked address, speaking to (and verifying TLS for) the endpoint's name."""

    def __init__(self, host: str, address: str, port: int, timeout: float, tls: bool) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address, self.tls = address, tls

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host) if self.tls else sock


def deliver_due(
    url: str, policy: AddressPolicy | None, retry_base: float = RETRY_BASE
) -> dict[str, int]:
    """Send every delivery that is due now; counts by outcome."""
    counts = {"delivered": 0, "pending": 0, "failed": 0}
    while (claimed := rows.claim_due(url)) is not None:
        delivery, hook = claimed
        body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"ScraperSky-Webhook/{__version__}",
            "X-ScraperSky-Event": delivery.event,
            "X-ScraperSky-Delivery": str(delivery.id),
            "X-ScraperSky-Timestamp": stamp,
            "X-ScraperSky-Signature": signature(hook.secret, stamp, body),
        }
        status_code, error, retry_in = (
            None,
            None,
            min(retry_base * 3 ** (delivery.attempts - 1), MAX_RETRY),
        )
        try:
            status_code = post(hook.url, body, headers, policy)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except Undeliverable as exc:
            error, retry_in = str(exc), None
        except (OSError, http.client.HTTPException) as exc:
            error = cut(f"{type(exc).__name__}: {exc}")
        outcome = rows.record(
            url,
            delivery.id,
            delivery.attempts,
            status_code=status_code,
            error=error,
            retry_in=retry_in,
        )
        if error:
            logger.warning("webhook %s delivery %s: %s (%s)", hook.id, delivery.id, error, outcome)
        counts[outcome] += 1
    return counts
