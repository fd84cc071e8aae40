"""API keys on the wire: `Authorization: Bearer <key>` (scrapersky.db.keys checks them)."""

from __future__ import annotations


def header(txrequest, name: bytes) -> str:
    """A request header as text, "" when absent. Latin-1, as HTTP defines header bytes: any bytes
    a caller sends decode (Twisted's getHeader with a str name raises on bytes that are not UTF-8)."""
    values = txrequest.requestHeaders.getRawHeaders(name)
    return values[0].decode("latin-1") if values else ""


def bearer_key(txrequest) -> str | None:
    """The key of a Bearer Authorization header, or None."""
    scheme, _, key = header(txrequest, b"authorization").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()
