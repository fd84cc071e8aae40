"""Open one sitemap body, decide its kind, and stream its entries.

Memory stays flat whatever the document size: the body is decompressed in
bounded steps, fed to lxml's pull parser chunk by chunk, and every finished
part of the tree is cut away after each chunk. The parser never loads a DTD,
never resolves an entity beyond the XML built-ins, and never touches the
network. Error strings are fixed-format and never quote the document.
"""

from __future__ import annotations

import re
from codecs import BOM_UTF8, BOM_UTF16_BE, BOM_UTF16_LE
from collections.abc import Generator, Iterable, Iterator
from itertools import chain
from typing import Literal

from lxml import etree

from scrapersky.sitemaps.dates import parse_lastmod
from scrapersky.sitemaps.entries import (
    Builder,
    Deviations,
    PageEntry,
    SitemapRef,
    local_name,
    mixed_builder,
    page_from_atom_entry,
    page_from_rss_item,
    ref_builder,
    url_builder,
)
from scrapersky.sitemaps.stream import StreamError, decoded_chunks, is_gzip
from scrapersky.sitemaps.text import has_url_line, text_entries

__all__ = ["PageEntry", "Sitemap", "SitemapRef", "open_sitemap", "parse_lastmod"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# The XML declaration, comments and doctype before the root element must fit
# in this; real sitemaps need a few hundred bytes.
MAX_PROLOG_BYTES = 1024 * 1024
# One entry may span at most this much input. The tree of the entry being read
# is the only part that cannot be cut away, so this bounds memory on hostile input.
MAX_ENTRY_BYTES = 1024 * 1024

_UTF16_BOMS = (BOM_UTF16_LE, BOM_UTF16_BE)  # left in place: lxml picks the encoding from them
_BLANKS = b" \t\r\n"

_KIND_OF_ROOT = {
    "urlset": "urlset",
    "sitemapindex": "index",
    "rss": "rss",
    "RDF": "rss",
    "feed": "atom",
}
_ENTRY_NAME = {"urlset": "url", "index": "sitemap", "rss": "item", "atom": "entry"}
_ENTRY_NAMES = {
    kind: frozenset((name, "sitemap")) if kind == "urlset" else frozenset((name,))
    for kind, name in _ENTRY_NAME.items()
}
_FEED_BUILDER: dict[str, Builder] = {"rss": page_from_rss_item, "atom": page_from_atom_entry}
# What libxml2 reports for a bare "&" (the commonest damage in real sitemaps) and for bytes XML forbids.
_BARE_AMPERSAND = frozenset(
    ("ERR_NAME_REQUIRED", "ERR_ENTITYREF_SEMICOL_MISSING", "ERR_UNDECLARED_ENTITY")
)
_INVALID_CHAR = frozenset(("ERR_INVALID_CHAR", "ERR_INVALID_ENCODING"))
# The last bytes of the document are kept to tell a truncated document from a damaged one.
_TAIL_BYTES = 256

NOT_A_SITEMAP = "not a sitemap"
HTML_PAGE = "HTML page, not a sitemap"
EMPTY = "empty document"


class Sitemap:
    """Result of opening one sitemap body. Construction reads only enough to decide the kind.

    kind: "index", "urlset", "text", "rss", "atom", or None when the body is
    not a sitemap (an HTML soft-404, an empty body, anything else). A urlset
    yields SitemapRef too for <sitemap> elements misplaced in it.
    is_gzipped: the body started with the gzip magic bytes.
    error: why reading stopped early, what damage was read past, or why kind
    is None; may be set only once entries() has been read. Entries read before
    the damage stay valid; after malformed XML (a bare "&", a forbidden byte,
    a mismatched tag) the rest is read again by libxml2's recovering parser,
    which keeps the entries around the damage.
    deviations: departures from the protocol that were repaired (kind -> count),
    such as relative <loc> values; filled in by entries().
    count: entries yielded so far by the current entries() pass.
    """

    def __init__(self, body: bytes, *, url: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.url = url
        self.kind: str | None = None
        self.is_gzipped = is_gzip(body)
        self.error: str | None = None
        self.count = 0
        self.deviations = Deviations()
        self._body = body
        self._max_bytes = max_bytes
        self._root_tag = ""
        try:
            self._sniff()
        except Exception as exc:  # the contract is "never raises"; keep the kind of failure only
            self.kind = None
            self.error = _unexpected(exc)

    def __repr__(self) -> str:
        return (
            f"Sitemap(url={self.url!r}, kind={self.kind!r}, is_gzipped={self.is_gzipped}, "
            f"count={self.count}, error={self.error!r})"
        )

    def entries(self) -> Iterator[PageEntry | SitemapRef]:
        """Stream the entries; SitemapRef for kind "index" (and misplaced in a urlset). Never raises:
        failures end it and set error."""
        self.count = 0
        kind = self.kind
        if kind is None:
            return iter(())
        self.error = None
        self.deviations = Deviations()
        document = _Document(self._body, self._max_bytes)
        if kind == "text":
            return self._text_entries(document)
        return self._xml_entries(document, kind)

    def _sniff(self) -> None:
        document = _Document(self._body, self._max_bytes)
        chunks = iter(document)
        first = next(chunks, b"")
        if not first:
            self.error = document.error or EMPTY
        elif first[:1] == b"<" or first[:2] in _UTF16_BOMS:
            self._sniff_xml(chain((first,), chunks))
            if self.kind is None and document.error is not None:
                self.error = document.error
        elif has_url_line(first, self.url):
            self.kind = "text"
        else:
            self.error = NOT_A_SITEMAP

    def _sniff_xml(self, chunks: Iterable[bytes]) -> None:
        parser = _xml_parser(("start",))
        seen = 0
        head = b""
        for chunk in chain(chunks, (b"",)):
            head = head or chunk
            failure = _feed(parser, chunk)
            for _event, root in parser.read_events():
                # A parsed tag is always a str; the stubs also allow what a program may set.
                self._root_tag = str(root.tag)
                name = local_name(root.tag)
                self.kind = _KIND_OF_ROOT.get(name)
                if self.kind is None:
                    self.error = HTML_PAGE if name.lower() == "html" else NOT_A_SITEMAP
                return
            if failure is not None:
                self.error = HTML_PAGE if _looks_like_html(head) else _xml_error(failure, not chunk)
                return
            seen += len(chunk)
            if seen > MAX_PROLOG_BYTES:
                self.error = f"no root element in the first {MAX_PROLOG_BYTES} bytes"
                return
        self.error = NOT_A_SITEMAP

    def _text_entries(self, document: _Document) -> Iterator[PageEntry]:
        try:
            for entry in text_entries(document, self.url):
                self.count += 1
                yield entry
        except Exception as exc:  # see __init__
            self.error = _unexpected(exc)
        if document.error is not None:
            self.error = document.error

    def _xml_entries(self, document: _Document, kind: str) -> Iterator[PageEntry | SitemapRef]:
        try:
            damage = yield from self._read_xml(document, kind)
            if damage is not None and document.error is None:
                # Read the whole document again, recovering, past the entries already given.
                again = _Document(self._body, self._max_bytes)
                yield from self._read_xml(again, kind, recover=True, skip=self.count)
                self.error = _xml_error(damage, not again.ends_with(self._root_tag))
        except Exception as exc:  # see __init__
            self.error = _unexpected(exc)
        if document.error is not None:
            self.error = document.error

    def _read_xml(
        self, document: _Document, kind: str, recover: bool = False, skip: int = 0
    ) -> Generator[PageEntry | SitemapRef, None, etree.LxmlError | None]:
        """Yield the entries of a kind of XML sitemap after the first skip; return the parse
        failure that ended a strict read."""
        entry_name = _ENTRY_NAME[kind]
        mixed = None
        if kind == "urlset":
            build = url_builder(_namespace(self._root_tag), self.deviations)
            mixed = mixed_builder(build, self.deviations)  # once a <sitemap> shows up (see below)
        elif kind == "index":
            build = ref_builder(self.deviations)
        else:
            build = _FEED_BUILDER[kind]
        base = self.url
        tags = [self._root_tag, "{*}" + entry_name]
        if kind == "urlset":
            tags.append("{*}sitemap")  # misplaced index children, followed all the same
        parser = _xml_parser(("end",), tags, recover=recover)
        read_events = parser.read_events
        root = None
        fed = 0
        closed = None  # the last entry the parser finished
        growing = None  # an unfinished entry seen at the end of the tree after the last cut
        growing_bytes = 0
        seam = b""  # the end of the previous chunk, for an end tag split between two
        for chunk in chain(document, (b"",)):
            # A misplaced <sitemap> ends in the chunk whose events report it: look for its end tag.
            if (
                mixed is not None
                and build is not mixed
                and (b"sitemap>" in chunk or b"sitemap>" in seam + chunk[:16])
            ):
                build = mixed
            seam = chunk[-16:]
            failure = _feed(parser, chunk)
            events: Iterable[tuple[str, etree._Element]] = read_events()
            if recover and not chunk and not document.ends_entry(entry_name):
                events = _without_last_entry(list(events), entry_name)
            for _event, elem in events:
                if root is None:
                    # Only entries and the root's end produce events, so the
                    # root is found through the first of them.
                    root = elem.getroottree().getroot()
                if elem is root:
                    return None
                closed = elem
                entry = build(elem, base)
                if entry is not None:
                    if recover:  # one test on the usual path
                        if "\ufffd" in entry.url:
                            continue  # bytes that were not text: not the URL the site meant
                        if skip:
                            skip -= 1
                            continue
                    self.count += 1
                    yield entry
            if failure is not None:
                # A broken stream explains the broken XML better than the parser does.
                return failure if document.error is None else None
            fed += len(chunk)
            if root is None:
                # Nothing can be cut before the root is known.
                if fed > MAX_ENTRY_BYTES:
                    self.error = f"no entry in the first {MAX_ENTRY_BYTES} bytes"
                    return None
                continue
            last = _cut_finished(root, _ENTRY_NAMES[kind])
            if last is None or last is closed:
                growing = None
            elif last is not growing:
                growing, growing_bytes = last, 0
            else:
                growing_bytes += len(chunk)
                if growing_bytes > MAX_ENTRY_BYTES:
                    self.error = f"entry exceeds {MAX_ENTRY_BYTES} bytes"
                    return None
        return None


def open_sitemap(
    body: bytes,
    *,
    url: str = "",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Sitemap:
    """Open a sitemap body (urlset, index, text, RSS or Atom; gzipped or not). Never raises.

    url is the sitemap's own address, used to resolve relative links in
    feeds and text files. Gzip is decided by the body's magic bytes alone, not by
    the server's Content-Type or Content-Encoding: servers label .gz files every
    which way and HTTP middlewares decode Content-Encoding without renaming.
    max_bytes caps the decompressed size of gzipped bodies.
    """
    return Sitemap(body, url=url, max_bytes=max_bytes)


class _Document:
    """One pass over the decoded body, leading BOM and blanks removed.

    A stream failure (corrupt gzip, size cap) ends the pass and is kept in error.
    """

    def __init__(self, body: bytes, max_bytes: int) -> None:
        self.error: str | None = None
        self._chunks = decoded_chunks(body, max_bytes)
        self._tail = b""

    def __iter__(self) -> Iterator[bytes]:
        started = False
        try:
            for chunk in self._chunks:
                if not started:
                    chunk = _strip_leading(chunk)
                    if not chunk:
                        continue
                    started = True
                self._tail = (self._tail + chunk[-_TAIL_BYTES:])[-_TAIL_BYTES:]
                yield chunk
        except StreamError as exc:
            self.error = str(exc)

    def ends_with(self, root_tag: str) -> bool:
        """Once read to the end: the document's last tag closes root_tag (any prefix)."""
        name = re.escape(local_name(root_tag).encode())
        return (
            re.search(rb"</(?:[^<>/\s]+:)?" + name + rb"\s*>$", self._tail.rstrip(_BLANKS))
            is not None
        )

    def ends_entry(self, entry_name: str) -> bool:
        """Once read to the end: the last entry was closed by its own end tag, nothing begun after it."""
        name = re.escape(entry_name.encode())
        ends = list(re.finditer(rb"</(?:[^<>/\s]+:)?" + name + rb"\s*>", self._tail))
        return (
            bool(ends)
            and re.search(rb"<(?:[^<>/\s]+:)?" + name + rb"[\s>]", self._tail[ends[-1].end() :])
            is None
        )


def _strip_leading(data: bytes) -> bytes:
    while True:
        data = data.lstrip(_BLANKS)
        if not data.startswith(BOM_UTF8):
            return data
        data = data[len(BOM_UTF8) :]


def _xml_parser(
    events: tuple[Literal["start", "end"], ...],
    tags: list[str] | None = None,
    recover: bool = False,
) -> etree.XMLPullParser:
    # lxml keeps a thread-wide error log that parse exceptions copy: start it clean, so
    # errors of earlier, unrelated parses are not judged as this document's.
    etree.clear_error_log()
    return etree.XMLPullParser(
        events=events,
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=recover,
        remove_blank_text=True,
        remove_comments=True,
        remove_pis=True,
    )


def _feed(parser: etree.XMLPullParser, chunk: bytes) -> etree.LxmlError | None:
    """Feed a chunk (b"" means end of input); the parse error, if any.

    Undeclared namespace prefixes are common in sitemaps and harmless here
    (elements are matched by local name); lxml reports them only on close.
    """
    try:
        if chunk:
            parser.feed(chunk)
        else:
            parser.close()
    except etree.LxmlError as exc:
        log = getattr(exc, "error_log", None)
        if log and all(error.domain == etree.ErrorDomains.NAMESPACE for error in log):
            return None
        return exc
    return None


def _cut_finished(root: etree._Element, entry_names: frozenset[str]) -> etree._Element | None:
    """Delete every finished subtree, down to the entry being read; return that entry.

    Everything the parser may still add to sits on the path of last children,
    so all earlier siblings along that path are done with. The entry itself is
    left whole: its children are still to be read.
    """
    node = root
    while len(node):
        if len(node) > 1:
            del node[:-1]
        node = node[0]
        if local_name(node.tag) in entry_names:
            return node
    return None


def _xml_error(failure: etree.LxmlError, truncated: bool) -> str:
    """A fixed-format description of the first damage libxml2 reported."""
    log = getattr(failure, "error_log", None)
    first = log[0] if log else None
    line = first.line if first is not None else getattr(failure, "lineno", None)
    where = f" near line {line}" if isinstance(line, int) and line > 0 else ""
    kind = first.type_name if first is not None else ""
    cut = "; cut short" if truncated else ""
    if kind in _BARE_AMPERSAND:
        return f"malformed XML{where}: unescaped '&'{cut}"
    if kind in _INVALID_CHAR:
        return f"malformed XML{where}: forbidden character{cut}"
    if truncated:
        return f"XML ended before the document was complete{where}"
    return f"malformed XML{where}"


def _without_last_entry(
    events: list[tuple[str, etree._Element]], entry_name: str
) -> list[tuple[str, etree._Element]]:
    """Events less the last entry's: the recovering parser closed it where the input was cut,
    so its text (a URL, say) is cut short too."""
    for index in range(len(events) - 1, -1, -1):
        if local_name(events[index][1].tag) == entry_name:
            return events[:index] + events[index + 1 :]
    return events


def _namespace(tag: str) -> str:
    """The "{uri}" prefix of a Clark-notation tag, or ""."""
    return tag[: tag.find("}") + 1] if tag.startswith("{") else ""


def _looks_like_html(head: bytes) -> bool:
    start = head[:4096].lower()
    return start.startswith(b"<!doctype html") or b"<html" in start


def _unexpected(exc: Exception) -> str:
    return f"unexpected {type(exc).__name__} while reading the sitemap"
