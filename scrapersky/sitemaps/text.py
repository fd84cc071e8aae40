"""Plain-text sitemaps: one URL per line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from scrapersky.sitemaps.entries import PageEntry, absolute_url, http_url

# Longer lines are junk, not URLs; they are skipped without being buffered.
MAX_LINE = 16 * 1024


def url_from_line(raw: bytes, base: str) -> str | None:
    """The URL on one line: absolute http(s), or a "/path" resolved against base; None for junk."""
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    # A URL is one printable word: whitespace inside or control characters (NUL among them)
    # make the line junk.
    if not line or not line.isprintable() or len(line.split(None, 1)) > 1:
        return None
    if line.startswith("/"):
        return absolute_url(line, base)
    return http_url(line)


def has_url_line(head: bytes, base: str) -> bool:
    """Whether any line of the document's start holds a URL."""
    return any(url_from_line(raw, base) for raw in head.splitlines())


def text_entries(chunks: Iterable[bytes], base: str) -> Iterator[PageEntry]:
    pending = b""
    skipping = False  # inside an over-long line: drop bytes until the next newline
    for chunk in chunks:
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        if skipping and lines:
            lines.pop(0)
            skipping = False
        for raw in lines:
            url = url_from_line(raw, base)
            if url is not None:
                yield PageEntry(url)
        if len(pending) > MAX_LINE:
            pending = b""
            skipping = True
    if pending and not skipping:
        url = url_from_line(pending, base)
        if url is not None:
            yield PageEntry(url)
