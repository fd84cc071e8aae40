"""Webhook rows: endpoints per tenant, and an outbox of deliveries written with the event itself.

A delivery row is added in the same transaction that ends a job or a batch, so an event is
never lost to a crash between the two. Senders claim due rows one at a time (pending → sending)
with a lease: while a row is `sending`, `next_attempt_at` is when its lease ends. A sender that
died leaves its row to the next sender only after the lease, and only up to MAX_ATTEMPTS claims
in all; then the row is `failed` with the reason. An outcome is recorded only by the sender that
still holds the claim, so a late sender cannot overwrite a newer attempt.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session

from scrapersky.core.clock import now
from scrapersky.core.states import DeliveryStatus
from scrapersky.core.storable import storable_text
from scrapersky.db.engine import rowcount
from scrapersky.db.models import Webhook, WebhookDelivery

MAX_ATTEMPTS = 8


def add(session: Session, tenant_id: str, endpoint: str, secret: str | None = None) -> Webhook:
    hook = Webhook(tenant_id=tenant_id, url=endpoint, secret=secret or secrets.token_urlsafe(32))
    session.add(hook)
    session.flush()  # its id, for the caller to show
    return hook


def listed(session: Session, tenant_id: str | None = None) -> list[Webhook]:
    query = select(Webhook).where(Webhook.active).order_by(Webhook.id)
    if tenant_id:
        query = query.where(Webhook.tenant_id == tenant_id)
    return list(session.scalars(query).all())


def remove(session: Session, hook_id: int, tenant_id: str | None = None) -> bool:
    query = update(Webhook).where(Webhook.id == hook_id, Webhook.active)
    if tenant_id:
        query = query.where(Webhook.tenant_id == tenant_id)
    return bool(rowcount(session.execute(query.values(active=False))))


def enqueue(session: Session, tenant_id: str, event: str, payload: dict[str, Any]) -> None:
    """One delivery per active webhook of the tenant, inside the caller's transaction."""
    enqueue_many(session, event, [(tenant_id, payload)])


def enqueue_many(
    session: Session, event: str, payloads: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """enqueue for several (tenant, payload) events at once: one look-up of the tenants' hooks."""
    if not payloads:
        return
    hooks: dict[str, list[int]] = {}
    for hook_id, tenant_id in session.execute(
        select(Webhook.id, Webhook.tenant_id)
        .where(Webhook.tenant_id.in_({tenant for tenant, _ in payloads}), Webhook.active)
        .order_by(Webhook.id)
    ):
        hooks.setdefault(tenant_id, []).append(hook_id)
    stamp = now()
    session.add_all(
        WebhookDelivery(
            webhook_id=hook_id,
            event=event,
            payload={"event": event, **payload},
            next_attempt_at=stamp,
        )
        for tenant_id, payload in payloads
        for hook_id in hooks.get(tenant_id, ())
    )


def claim_due(
    session: Session, lease: float, *, skip: Collection[int] = (), max_attempts: int = MAX_ATTEMPTS
) -> tuple[WebhookDelivery, Webhook] | None:
    """The next due delivery, `sending` for this sender for `lease` seconds, with its webhook;
    None when none is due. Webhooks in `skip`, and webhooks with a delivery whose lease runs, wait:
    one call at a time per endpoint, whatever the number of senders. The caller commits the claim
    before it calls the endpoint: the committed lease is what keeps other senders off."""
    stamp = now()
    in_flight = select(WebhookDelivery.webhook_id).where(
        WebhookDelivery.status == DeliveryStatus.SENDING, WebhookDelivery.next_attempt_at > stamp
    )
    while True:
        query = (
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
                WebhookDelivery.next_attempt_at <= stamp,
                WebhookDelivery.webhook_id.not_in(in_flight),
                WebhookDelivery.webhook_id.not_in(skip) if skip else true(),
            )
            .order_by(WebhookDelivery.id)
            .limit(1)
        )
        row = session.execute(query).first()
        if row is None:
            return None
        delivery, hook = row
        mine = (
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.status == delivery.status,
                WebhookDelivery.attempts == delivery.attempts,
            )
            .execution_options(synchronize_session=False)
        )
        lapsed = delivery.status == DeliveryStatus.SENDING
        if lapsed and delivery.attempts >= max_attempts:
            session.execute(
                mine.values(
                    status=DeliveryStatus.FAILED,
                    last_error=f"gave up after {delivery.attempts} attempts: the last "
                    f"sender never recorded an outcome (lease of {lease:g} s expired)",
                    updated_at=stamp,
                )
            )
            continue
        values: dict[str, Any] = {
            "status": DeliveryStatus.SENDING,
            "attempts": delivery.attempts + 1,
            "next_attempt_at": stamp + timedelta(seconds=lease),
            "updated_at": stamp,
        }
        if lapsed:
            values["last_error"] = (
                f"attempt {delivery.attempts}: its sender never recorded an outcome "
                f"(lease of {lease:g} s expired)"
            )
        if rowcount(session.execute(mine.values(**values))):
            # Detached, so the count below stays in Python: the UPDATE above wrote it.
            session.expunge(delivery)
            session.expunge(hook)
            delivery.attempts += 1
            return delivery, hook


def record(
    session: Session,
    delivery_id: int,
    attempts: int,
    *,
    status_code: int | None,
    error: str | None,
    retry_in: float | None,
) -> str:
    """Store an attempt's outcome: delivered (2xx), pending again after retry_in seconds, or failed;
    `lost` when the claim lapsed and another sender took the delivery (nothing is written)."""
    if error is None and status_code is not None and 200 <= status_code < 300:
        status, values = DeliveryStatus.DELIVERED, {"delivered_at": now()}
    elif retry_in is not None and attempts < MAX_ATTEMPTS:
        status, values = (
            DeliveryStatus.PENDING,
            {"next_attempt_at": now() + timedelta(seconds=retry_in)},
        )
    else:
        status, values = DeliveryStatus.FAILED, {}
    written = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.SENDING,
            WebhookDelivery.attempts == attempts,
        )
        .values(
            status=status,
            last_status_code=status_code,
            last_error=None if error is None else storable_text(error),  # a receiver's words
            updated_at=now(),
            **values,
        )
    )
    return status if rowcount(written) else "lost"


def log(
    session: Session, tenant_id: str | None = None, limit: int = 50
) -> list[tuple[WebhookDelivery, Webhook]]:
    query = (
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if tenant_id:
        query = query.where(Webhook.tenant_id == tenant_id)
    return [(delivery, hook) for delivery, hook in session.execute(query).all()]
