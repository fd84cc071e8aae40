"""HTTP API keys: made, listed, revoked, and looked up by the key a caller sends.

A key is shown once, when it is made; the database keeps its SHA-256 digest and a public
key_id for listing and revoking.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from scrapersky.core.clock import now
from scrapersky.db.jobs import integer_id, plain_id
from scrapersky.db.models import ApiKey

PREFIX = "ssk_"


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a tenant's key, or an operator key (tenant_id None: every tenant)."""

    key_id: str
    tenant_id: str | None

    @property
    def operator(self) -> bool:
        return self.tenant_id is None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def create_key(
    session: Session, tenant_id: str | None, name: str | None = None
) -> tuple[ApiKey, str]:
    """A new key for the tenant (None: an operator key), flushed; returns the row and the key
    itself."""
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=f"key_{secrets.token_hex(8)}",
        name=name,
        tenant_id=tenant_id,
        operator=tenant_id is None,
        key_digest=digest(key),
    )
    session.add(row)
    session.flush()
    return row, key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)).all())


def revoke_key(session: Session, ident: str) -> ApiKey | None:
    """Revoke a key by key_id or integer id; None when there is no such key."""
    text = plain_id(ident)
    if text is None:
        return None
    conditions = [ApiKey.key_id == text]
    if (number := integer_id(text)) is not None:
        conditions.append(ApiKey.id == number)
    row = session.scalars(select(ApiKey).where(or_(*conditions))).first()
    if row is not None and row.revoked_at is None:
        session.execute(update(ApiKey).where(ApiKey.id == row.id).values(revoked_at=now()))
        row.revoked_at = now()
    return row


def authenticate(session: Session, key: str) -> Caller | None:
    """The caller a key belongs to, or None for an unknown or revoked key."""
    if not key.startswith(PREFIX) or len(key) > 200:
        return None
    row = session.scalars(
        select(ApiKey).where(ApiKey.key_digest == digest(key), ApiKey.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return Caller(row.key_id, None if row.operator else row.tenant_id)
