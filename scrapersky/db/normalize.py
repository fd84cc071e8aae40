"""Field normalization applied by NormalizePipeline: pure functions over plain data.

Beside the writer (store.py) because it fits items to the schema: the columns' lengths and
kinds (models.py) and text every column can hold (scrapersky.core.storable).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, datetime
from typing import Any

from scrapersky.core.storable import has_unstorable, storable, storable_text
from scrapersky.db.models import DOMAIN_METADATA_COLUMNS
from scrapersky.metadata.text import (
    MAX_DESCRIPTION_LENGTH,
    MAX_LANGUAGE_LENGTH,
    MAX_TITLE_LENGTH,
    clean_text,
    normalize_language,
)
from scrapersky.metadata.urls import MAX_URL_LENGTH
from scrapersky.sitemaps import PageEntry
from scrapersky.sitemaps.entries import CHANGEFREQS


def normalize_listed_pages(entries: list[PageEntry]) -> tuple[list[PageEntry], Counter[str]]:
    """Keep entries with a usable absolute http(s) URL; clamp the rest of the fields in place."""
    kept: list[PageEntry] = []
    dropped: Counter[str] = Counter()
    for entry in entries:
        url = entry.url
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            dropped["not_http"] += 1
            continue
        if len(url) > MAX_URL_LENGTH:
            dropped["too_long"] += 1
            continue
        if has_unstorable(url):  # no database text column can hold it as it is
            dropped["nul_character" if "\x00" in url else "lone_surrogate"] += 1
            continue
        # What a site puts in image captions, news titles, hreflang links: text for JSON columns.
        if entry.alternates:
            entry.alternates = storable(entry.alternates)
        if entry.images:
            entry.images = storable(entry.images)
        if entry.news:
            entry.news = storable(entry.news)
        if entry.videos:
            entry.videos = storable(entry.videos)
        priority = entry.priority
        if priority is not None and not (isinstance(priority, float) and 0.0 <= priority <= 1.0):
            entry.priority = None
        if entry.changefreq is not None and entry.changefreq not in CHANGEFREQS:
            entry.changefreq = None
        kept.append(entry)
    return kept, dropped


LIST_CAPS = {"email_addresses": 20, "phone_numbers": 10}
TEXT_CAPS = {
    "title": MAX_TITLE_LENGTH,
    "description": MAX_DESCRIPTION_LENGTH,
    "language": MAX_LANGUAGE_LENGTH,
    "wordpress_version": 32,
}
URL_FIELDS = tuple(name for name in DOMAIN_METADATA_COLUMNS if name.endswith("_url"))


def normalize_domain_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    out = dict(metadata)
    for name, limit in TEXT_CAPS.items():
        if name in out:
            out[name] = clean_text(out[name], limit)
    if out.get("language"):
        # BCP 47's own case (RFC 5646 2.1.1): `de-DE` as sites write it, `de-de` and `de_DE` alike.
        out["language"] = normalize_language(out["language"])
    for name in URL_FIELDS:
        value = out.get(name)
        if value is not None and (
            not isinstance(value, str)
            or len(value) > MAX_URL_LENGTH
            or not value.startswith(("http://", "https://"))
        ):
            out[name] = None
    for name, cap in LIST_CAPS.items():
        values = out.get(name) or []
        seen = dict.fromkeys(
            str(v).strip().lower() if name == "email_addresses" else str(v).strip()
            for v in values
            if v
        )
        out[name] = list(seen)[:cap]
    safe: dict[str, Any] = json_safe(out)
    return safe


def json_safe(value: Any) -> Any:
    """Make a value storable in a JSON column (dates as ISO text, no NaN, str keys, no NUL or
    lone surrogate in any key or text: see scrapersky.core.storable)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return json_safe(json.loads(json.dumps(value, default=str)))
