"""What changed between two readings of one urlset, parsing only the entries that changed.

A rescan of a large urlset usually finds most of it as it was. When both readings are plain
urlsets, each `<url>` element's bytes are its listing: an element found byte for byte in the
earlier reading lists what it listed then, and only the elements new in this reading (and the
vanished ones, for their URLs) need the parser. Anything that could make equal bytes mean
different things, or make the split into elements uncertain, sends the caller back to a full
read (None):

- a different prolog or root start tag (encoding, namespaces, stylesheet);
- comments, CDATA or a doctype anywhere, character references, or entities that have a literal
  spelling too;
- anything but an element spelled `<url>…</url>`, holding no other "<url" and exactly one
  `<loc>`, after each `</url>` but the last (so a `</url>` hidden in a processing instruction
  leaves a piece that is no element, or a piece count the parser does not confirm);
- a `<loc>` with anything but ASCII in it (its URL is its stripped text, and only ASCII blanks
  strip the same way as bytes);
- an earlier reading whose element count is not the entry count the caller stored for it
  (`previous_count`), a URL listed twice, or a changed entry the parser repairs, rejects or
  reads with an error.

The earlier reading is only trusted by the caller when it was read completely, listed every URL
once and needed no repair (see `keepable`); then equal elements mean equal stored rows.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass

from scrapersky.sitemaps.entries import PageEntry
from scrapersky.sitemaps.parse import DEFAULT_MAX_BYTES, open_sitemap
from scrapersky.sitemaps.stream import StreamError, decoded_chunks, is_gzip

_OPEN, _CLOSE, _END = b"<url>", b"</url>", b"</urlset>"
_BLANKS = b" \t\r\n"
# Spellings that make equal bytes mean different things, or unequal bytes mean the same thing.
# Comments, CDATA and doctypes all start "<!"; these entities all have a literal spelling too.
_ENTITIES = (b"&#", b"&apos;", b"&quot;", b"&gt;")
_LOC = re.compile(rb"<loc>([^<]*)</loc>")


@dataclass(slots=True)
class ListingDiff:
    """changed: the entries new in this reading or listed differently, in document order.
    vanished: URLs the earlier reading listed and this one does not.
    count: the entries this reading lists."""

    changed: list[PageEntry]
    vanished: list[str]
    count: int


def keepable(body: bytes) -> bytes:
    """The form a reading is kept in for the next diff: gzip, as served or made here."""
    return body if is_gzip(body) else gzip.compress(body, compresslevel=1, mtime=0)


def listing_diff(
    previous: bytes,
    previous_count: int,
    body: bytes,
    *,
    url: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ListingDiff | None:
    """Compare this reading of a urlset (body) with the earlier one (previous, as keepable()
    made it, which listed previous_count entries). None when only a full read can tell."""
    before, now = _decoded(previous, max_bytes), _decoded(body, max_bytes)
    if before is None or now is None:
        return None
    old, new = _split(before), _split(now)
    if old is None or new is None:
        return None
    (old_head, old_entries, old_tail), (head, entries, tail) = old, new
    if old_head != head or len(old_entries) != previous_count:
        return None
    locs = _LOC.findall(now, len(head))
    if len(locs) != len(entries) or not b"".join(locs).isascii():
        return None  # an entry without exactly one <loc>, or one with blanks bytes.strip keeps
    if len({loc.strip() for loc in locs}) != len(locs):
        return None  # a URL listed twice: which listing wins depends on entries not read
    known = set(old_entries)
    fresh = [entry for entry in entries if entry not in known]
    current = set(entries)
    gone = [entry for entry in old_entries if entry not in current]
    changed = _parsed(head, fresh, tail, url)
    vanished = _parsed(head, gone, old_tail, url)
    if changed is None or vanished is None:
        return None
    listed = {entry.url for entry in changed}
    return ListingDiff(
        changed, [entry.url for entry in vanished if entry.url not in listed], len(entries)
    )


def _decoded(body: bytes, max_bytes: int) -> bytes | None:
    try:
        return b"".join(decoded_chunks(body, max_bytes))
    except StreamError:
        return None


def _split(document: bytes) -> tuple[bytes, list[bytes], bytes] | None:
    """(prolog and root start tag, the <url> elements with the blanks before them, the rest);
    None unless the document is a plain urlset as the module docstring says."""
    start = document.find(_OPEN)
    if start < 0 or _unsafe(document):
        return None
    head = document[:start].rstrip(_BLANKS)  # the blanks before the first element are its own
    if b"<urlset" not in head:
        return None
    start = len(head)
    *entries, tail = document[start:].split(_CLOSE)
    if tail.strip() != _END:
        return None
    # Each element starts with <url> after blanks, and holds no other "<url": together, one
    # <url> per element and nothing else between them.
    lstrip = bytes.lstrip
    if [lstrip(entry)[:5] for entry in entries].count(_OPEN) != len(entries):
        return None
    if document.count(b"<url", start) != len(entries):
        return None
    return head, entries, tail


def _unsafe(document: bytes) -> bool:
    # A one-byte search runs at memchr speed, a longer one many times slower: look for the
    # longer spellings only when their first byte is there at all.
    if b"!" in document and b"<!" in document:
        return True
    return b"&" in document and any(spelling in document for spelling in _ENTITIES)


def _parsed(head: bytes, entries: list[bytes], tail: bytes, url: str) -> list[PageEntry] | None:
    """The entries of these elements, read by the sitemap parser as a document of their own;
    None unless each gives one entry, unrepaired and without error."""
    if not entries:
        return []
    sitemap = open_sitemap(head + _CLOSE.join(entries) + _CLOSE + tail, url=url)
    if sitemap.kind != "urlset":
        return None
    read = [entry for entry in sitemap.entries() if isinstance(entry, PageEntry)]
    if sitemap.error or sitemap.deviations or len(read) != len(entries):
        return None
    return read
