"""What changed between two readings of one urlset, parsing only the entries that changed.

A rescan of a large urlset usually finds most of it as it was. When both readings are plain
urlsets, each `<url>` element's bytes are its listing: an element found byte for byte in the
earlier reading lists what it listed then, and only the elements new in this reading (and the
vanished ones, for their URLs) need the parser. Anything that could make equal bytes mean
different things, or make the split into elements uncertain, sends the caller back to a full
read (None):

- a different prolog or root start tag (encoding, namespaces, doctype, stylesheet);
- comments or CDATA anywhere (either could hide a `</url>`);
- anything but an element spelled `<url>…</url>` holding no other "<url" after each `</url>`
  but the last (a `</url>` hidden in a processing instruction leaves a piece that is no
  element, or a piece count that the parser or previous_count does not confirm);
- an earlier reading whose element count is not the entry count the caller stored for it
  (`previous_count`), a changed entry the parser repairs, rejects or reads with an error, or
  one URL in two changed entries.

The caller keeps a reading (`keepable`) only when it was read completely and needed no repair,
and diffs against it only while the stored pages match it: as many current pages name the
sitemap as the reading listed (scrapersky.db.history.read_validators). Then every URL was
listed once, an element found byte for byte again is a stored row that is still true, and a URL
in `added` is listed twice unless the sitemap's stored pages lack it: the caller checks that.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass

from scrapersky.sitemaps.entries import PageEntry
from scrapersky.sitemaps.parse import open_sitemap
from scrapersky.sitemaps.stream import StreamError, decoded_chunks, is_gzip

# The largest reading diffed, decompressed: a 50,000-URL urlset with its extensions fits, and
# the two readings held at once stay a few tens of megabytes whatever a site serves.
DIFF_MAX_BYTES = 16 * 1024 * 1024
_OPEN, _CLOSE, _END = b"<url>", b"</url>", b"</urlset>"
_BLANKS = b" \t\r\n"


@dataclass(slots=True)
class ListingDiff:
    """changed: the entries new in this reading or listed differently, in document order.
    vanished: URLs the earlier reading listed and this one does not.
    added: URLs of changed entries that no vanished element listed (new to the sitemap, unless
    an element found again lists them too).
    count: the entries this reading lists."""

    changed: list[PageEntry]
    vanished: list[str]
    added: list[str]
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
    max_bytes: int = DIFF_MAX_BYTES,
) -> ListingDiff | None:
    """Compare this reading of a urlset (body) with the earlier one (previous, as keepable()
    made it, which listed previous_count entries). None when only a full read can tell, or
    when either reading holds more than max_bytes (both are held whole, split into elements)."""
    old = _elements(previous, max_bytes)  # each document is dropped once split: memory
    new = _elements(body, max_bytes)
    if old is None or new is None:
        return None
    (old_head, old_entries, old_tail), (head, entries, tail) = old, new
    if old_head != head or len(old_entries) != previous_count:
        return None
    known = set(old_entries)
    fresh = [entry for entry in entries if entry not in known]
    del known
    current = set(entries)
    gone = [entry for entry in old_entries if entry not in current]
    changed = _parsed(head, fresh, tail, url)
    vanished = _parsed(head, gone, old_tail, url)
    if changed is None or vanished is None:
        return None
    listed = {entry.url for entry in changed}
    if len(listed) != len(changed):
        return None  # one URL twice: which listing wins depends on where each stands
    was = {entry.url for entry in vanished}
    return ListingDiff(
        changed,
        [entry.url for entry in vanished if entry.url not in listed],
        [entry.url for entry in changed if entry.url not in was],
        len(entries),
    )


def _elements(body: bytes, max_bytes: int) -> tuple[bytes, list[bytes], bytes] | None:
    document = _decoded(body, max_bytes)
    return None if document is None else _split(document)


def _decoded(body: bytes, max_bytes: int) -> bytes | None:
    # The diff holds whole readings (a full read streams): a bigger one is read in full.
    if len(body) > max_bytes:
        return None
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
    if b"<urlset" not in head or _CLOSE in head:
        return None
    start = len(head)
    *entries, tail = document.split(_CLOSE)  # no copy of the document without its head
    if not entries or tail.strip() != _END:
        return None
    entries[0] = entries[0][start:]
    # Each element is <url> after blanks and holds no other "<url": the first starts so (it
    # follows the head), every seam between two is "</url>", blanks, "<url>", and there are as
    # many "<url" as elements. Together: one <url> per element and nothing else between them.
    if _seams(document, start) != len(entries) - 1:
        return None
    if document.count(b"<url", start) != len(entries):
        return None
    return head, entries, tail


_SEAM = re.compile(rb"</url>[ \t\r\n]*<url>")


def _seams(document: bytes, start: int) -> int:
    # Generators write the same blanks between all elements: count that exact seam (a plain
    # search), and fall back to the pattern when some seam differs.
    first = _SEAM.search(document, start)
    if first is None:
        return 0
    seams = document.count(first.group(), start)
    return (
        seams if seams == document.count(_CLOSE, start) - 1 else len(_SEAM.findall(document, start))
    )


def _unsafe(document: bytes) -> bool:
    # Comments, CDATA and doctypes all start "<!". A one-byte search runs at memchr speed, a
    # longer one many times slower: look for "<!" only when there is a "!" at all.
    return b"!" in document and b"<!" in document


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
