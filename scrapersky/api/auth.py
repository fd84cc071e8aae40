"""API keys on the wire: `Authorization: Bearer <key>` (scrapersky.db.keys checks them)."""

from __future__ import annotations


def bearer_key(txrequest) -> str | None:
    """The key of a Bearer Authorization header, or None."""
    header = txrequest.getHeader("authorization") or ""
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()
