"""Webhook delivery: signed POSTs of job and batch endings, retried with backoff, each call bounded.

The body carries the event and the delivery's id (`delivery_id`, the same on every retry), and
`X-ScraperSky-Signature: sha256=HEX` is the HMAC-SHA256 of `TIMESTAMP.BODY` under the webhook's
secret, TIMESTAMP being `X-ScraperSky-Timestamp`: one signature covers the id, the event, the
payload and the time, so a receiver can check origin and freshness and drop repeats.

Every call goes through scrapersky.net.outbound: the crawl's address policy, https only, one
total deadline for the whole exchange and a cap on the answer's size. A refused or malformed
endpoint fails at once; errors, deadlines and non-2xx answers are retried after
RETRY_BASE × 3^(attempt-1) seconds, up to db.webhooks.MAX_ATTEMPTS attempts. Within one pass an
endpoint that failed is not called again, so a slow one costs the others at most one deadline.
Senders are the Scrapyd node's loop and `scrapy webhooks deliver`, never a crawl.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

from scrapersky import __version__
from scrapersky.config import to_bool, to_int
from scrapersky.core.messages import cut
from scrapersky.core.retry import delay_after
from scrapersky.db import webhooks as rows
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.net.outbound import AnswerTooLarge, DeadlineExceeded, Refused, post
from scrapersky.net.policy import AddressPolicy, policy_from_settings

logger = logging.getLogger(__name__)
MAX_RETRY = 3600.0
# How long past its deadline a sender may take to record an attempt before its claim lapses.
LEASE_MARGIN = 30.0


@dataclass(frozen=True)
class Sending:
    """How deliveries are sent: the address policy and the bounds of one call."""

    policy: AddressPolicy | None
    allow_http: bool = False
    deadline: float = 10.0
    max_bytes: int = 64 * 1024
    retry_base: float = 10.0

    @classmethod
    def from_settings(cls, settings) -> Sending:
        return cls(
            policy_from_settings(settings),
            to_bool(settings.get("SCRAPERSKY_WEBHOOK_ALLOW_HTTP"), "SCRAPERSKY_WEBHOOK_ALLOW_HTTP"),
            to_int(settings.get("SCRAPERSKY_WEBHOOK_DEADLINE"), "SCRAPERSKY_WEBHOOK_DEADLINE"),
            to_int(
                settings.get("SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES"),
                "SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES",
            ),
            to_int(settings.get("SCRAPERSKY_WEBHOOK_RETRY_BASE"), "SCRAPERSKY_WEBHOOK_RETRY_BASE"),
        )

    @property
    def lease(self) -> float:
        """Seconds a claimed delivery stays with its sender before another may take it."""
        return self.deadline + LEASE_MARGIN


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


def signed_body(delivery_id: int, payload: dict) -> bytes:
    """The JSON body: the stored payload (its `event` included) and the delivery's id."""
    return json.dumps(
        {**payload, "delivery_id": delivery_id}, sort_keys=True, separators=(",", ":")
    ).encode()


def deliver_due(url: str, sending: Sending) -> dict[str, int]:
    """Send every delivery that is due now; counts by outcome. Each claim is committed in a
    transaction of its own before the endpoint is called (no transaction stays open across a
    call), and each outcome is recorded in another."""
    counts = {"delivered": 0, "pending": 0, "failed": 0}
    failing: set[int] = set()  # endpoints that failed in this pass: left for the next one
    while (claimed := in_transaction(url, rows.claim_due, sending.lease, skip=failing)) is not None:
        delivery, hook = claimed
        body = signed_body(delivery.id, delivery.payload)
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
            delay_after(delivery.attempts, sending.retry_base, factor=3, cap=MAX_RETRY),
        )
        try:
            status_code = post(
                hook.url,
                body,
                headers,
                policy=sending.policy,
                allow_http=sending.allow_http,
                deadline=sending.deadline,
                max_bytes=sending.max_bytes,
            )
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except Refused as exc:
            error, retry_in = str(exc), None
        except (DeadlineExceeded, AnswerTooLarge) as exc:
            error = str(exc)
        except OSError as exc:
            error = cut(f"{type(exc).__name__}: {exc}")
        with session_scope(url) as session:
            outcome = rows.record(
                session,
                delivery.id,
                delivery.attempts,
                status_code=status_code,
                error=error,
                retry_in=retry_in,
            )
        if error:
            failing.add(hook.id)
            logger.warning("webhook %s delivery %s: %s (%s)", hook.id, delivery.id, error, outcome)
        if outcome in counts:
            counts[outcome] += 1
    return counts
