"""Resolving links found in a page to absolute http(s) URLs."""

from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

MAX_URL_LENGTH = 2048  # longer URLs are dropped everywhere: no index can hold them usefully


def absolute_url(href: str | None, base_url: str) -> str | None:
    """`href` resolved against `base_url`, or None when it is empty, inline
    (`data:`), not http(s), unparsable, or absurdly long."""
    if not href:
        return None
    href = href.strip()
    if not href or len(href) > MAX_URL_LENGTH:
        return None
    try:
        resolved = urljoin(base_url, href)
        parts = urlsplit(resolved)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        return safe_url_string(resolved)
    except ValueError:
        return None


def host_of(url: str) -> str:
    """Lowercase host name of `url`, '' when there is none."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""
