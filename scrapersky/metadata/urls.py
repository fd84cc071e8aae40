"""Resolving links found in a page to absolute http(s) URLs."""

from urllib.parse import urlsplit

from w3lib.url import safe_url_string

from scrapersky.sitemaps.entries import absolute_url

MAX_URL_LENGTH = 2048  # longer URLs are dropped everywhere: no index can hold them usefully


def link_url(href: str | None, base_url: str) -> str | None:
    """`href` resolved against `base_url` as a sitemap's links are (absolute_url), then
    percent-encoded for fetching and storing; None when it is empty, inline (`data:`),
    not http(s), unparsable, or absurdly long."""
    if not href or len(href.strip()) > MAX_URL_LENGTH:
        return None
    resolved = absolute_url(href, base_url)
    if resolved is None:
        return None
    try:
        return safe_url_string(resolved) if urlsplit(resolved).hostname else None
    except ValueError:
        return None


def host_of(url: str) -> str:
    """Lowercase host name of `url`, '' when there is none."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""
