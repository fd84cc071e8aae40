"""Sitemap and feed dates (W3C datetime, ISO 8601, RFC 2822) to aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

UTC = UTC

# Large sitemaps repeat the same lastmod strings over and over; a small cache
# skips most parsing. It is cleared when full, which keeps it bounded.
_CACHE: dict[str, datetime | None] = {}
_CACHE_SIZE = 4096

_UTC_SUFFIXES = (" UTC", " GMT", "UTC", "GMT")


def parse_lastmod(value: str | None) -> datetime | None:
    """Parse a lastmod/pubDate/updated value; None when absent or invalid."""
    if not value:
        return None
    if value in _CACHE:  # not try/except: most values of a big sitemap are new
        return _CACHE[value]
    parsed = _parse(value.strip())
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[value] = parsed
    return parsed


def _parse(text: str) -> datetime | None:
    if not text or len(text) > 64:
        return None
    parsed = _iso(text)
    if parsed is None:
        parsed = _iso(_w3c_variant(text))
    if parsed is None:
        parsed = _rfc2822(text)
    if parsed is None:
        return None
    try:
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        if parsed.tzinfo is UTC:
            return parsed
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _iso(text: str) -> datetime | None:
    if not text[:1].isdigit():
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _w3c_variant(text: str) -> str:
    """Rewrite forms fromisoformat refuses: YYYY, YYYY-MM, lowercase t/z, UTC/GMT suffix."""
    text = text.upper()
    for suffix in _UTC_SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)].rstrip() + "+00:00"
            break
    if len(text) == 4 and text.isdigit():
        return text + "-01-01"
    if len(text) == 7 and text[4] == "-":
        return text + "-01"
    return text


def _rfc2822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
