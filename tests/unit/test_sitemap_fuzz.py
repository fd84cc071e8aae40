"""Property tests: any body, however damaged, is read without raising, with work bounded by its
size, and without leaking."""

from __future__ import annotations

import gzip
import sys
import zlib
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrapersky.sitemaps import PageEntry, SitemapRef, open_sitemap

# Placed only where no entry may take text from: comments, processing
# instructions, DTD declarations, attributes and text outside entries.
SECRET = "S3CRETxMARKER"

SEEDS: dict[str, bytes] = {
    "urlset": f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- {SECRET} -->
<!DOCTYPE urlset [<!ENTITY secret "{SECRET}"><!ENTITY ext SYSTEM "file:///etc/passwd">]>
<?generator {SECRET}?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:xhtml="http://www.w3.org/1999/xhtml" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" data-note="{SECRET}">
  <url><loc>https://example.com/a</loc><lastmod>2024-05-06T10:11:12+02:00</lastmod>
       <changefreq>daily</changefreq><priority>0.8</priority></url>
  <!-- between entries {SECRET} -->
  <url><loc>https://example.com/&secret;</loc><lastmod>&ext;</lastmod></url>
  <url><loc>https://example.com/b?x=1&amp;y=2</loc>
       <xhtml:link rel="alternate" hreflang="de" href="https://example.com/de/b"/>
       <image:image><image:loc>https://example.com/b.png</image:loc><image:title>B</image:title></image:image>
       <news:news><news:publication><news:name>N</news:name><news:language>en</news:language></news:publication>
       <news:publication_date>2024-05-06</news:publication_date><news:title>T</news:title></news:news></url>
  <url><loc><![CDATA[https://example.com/c]]></loc></url>
</urlset>
""".encode(),
    "index": f"""<?xml version="1.0"?>
<!-- {SECRET} -->
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.com/s1.xml</loc><lastmod>2024-01-01</lastmod></sitemap>
  <?note {SECRET}?>
  <sitemap><loc>https://example.com/s2.xml.gz</loc></sitemap>
</sitemapindex>
""".encode(),
    "rss": f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Blog</title><description>{SECRET}</description>
  <!-- {SECRET} -->
  <item><title>x</title><link>https://example.com/one</link><pubDate>Mon, 06 May 2024 10:11:00 GMT</pubDate></item>
  <item><title>y</title><guid>https://example.com/two</guid></item>
</channel></rss>
""".encode(),
    "atom": f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><subtitle>{SECRET}</subtitle>
  <!-- {SECRET} -->
  <entry><link rel="alternate" href="https://example.com/a"/><updated>2024-05-02T03:04:05Z</updated></entry>
  <entry><link href="https://example.com/b"/><summary>{SECRET}</summary></entry>
  <entry><link rel="self" href="https://example.com/api/c"/><link rel="edit" href="https://example.com/api/c/1"/></entry>
</feed>
""".encode(),
    "text": f"""https://example.com/1
junk line with {SECRET} inside
https://example.com/2?x=y
""".encode(),
}
SEEDS["gzip"] = gzip.compress(SEEDS["urlset"])
SEEDS["gzip_text"] = gzip.compress(SEEDS["text"])

BASE_URLS = st.sampled_from(
    ["", "https://example.com/sitemap.xml", "https://example.com/feed?page=2"]
)


def _plain(body: bytes) -> bytes:
    try:
        return gzip.decompress(body)
    except (OSError, EOFError):
        return body


def _spaced(data: bytes) -> bytes:
    return data.translate(_LINE_BREAKS)


_LINE_BREAKS = bytes.maketrans(b"\t\n\r", b"   ")


# Reading is linear in the bytes read: at most this many function calls (Python and C) per
# inflated byte, beyond a fixed start. The most per byte is a text file of short relative lines
# (about 20: each is resolved against the sitemap's URL); anything worse than linear in a body of
# a few kilobytes needs hundreds of thousands more.
CALLS_PER_BYTE = 32
CALLS_AT_START = 1000


def _inflated_size(body: bytes) -> int:
    """The bytes a reader can get out of body: the body itself, or what its gzip members inflate
    to up to the first corrupt byte."""
    inflated, data = 0, body
    while data[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            for at in range(0, len(data), 64):
                inflated += len(inflater.decompress(data[at : at + 64]))
                if inflater.eof:
                    data = inflater.unused_data + data[at + 64 :]
                    break
        except zlib.error:
            break
        if not inflater.eof:
            break
    return max(len(body), inflated)


def _read_counting_calls(body: bytes, url: str):
    calls = 0

    def count(frame, event, arg) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        sitemap = open_sitemap(body, url=url)
        entries = list(sitemap.entries())
    finally:
        sys.setprofile(None)
    return sitemap, entries, calls


def check(body: bytes, url: str) -> None:
    sitemap, entries, calls = _read_counting_calls(body, url)
    assert calls <= CALLS_AT_START + CALLS_PER_BYTE * _inflated_size(body), (
        calls,
        _inflated_size(body),
    )
    assert sitemap.count == len(entries)
    if sitemap.kind is None:
        assert entries == []
    for entry in entries:
        assert isinstance(entry, SitemapRef if sitemap.kind == "index" else PageEntry)
        assert entry.url.lower().startswith(("http://", "https://"))
        assert entry.lastmod is None or entry.lastmod.utcoffset() is not None
    for entry in entries:
        # Mutations can move marker text into a <loc> as plain character data; a URL may then
        # hold it, but only verbatim: never expanded from an entity, nor joined from a comment,
        # a processing instruction or an attribute.
        if SECRET in entry.url:  # an attribute value's line breaks are read as spaces
            assert _spaced(entry.url.encode()) in _spaced(_plain(body))
        assert SECRET not in repr(replace(entry, url=""))
    assert SECRET not in str(sitemap.error)
    assert "root:" not in repr(entries)
    if sitemap.error is not None:
        assert len(sitemap.error) < 80


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    body = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["truncate", "insert", "flip", "delete", "duplicate"]))
        at = draw(st.integers(0, max(len(body) - 1, 0)))
        if action == "truncate":
            del body[at:]
        elif action == "insert":
            body[at:at] = draw(
                st.binary(min_size=1, max_size=16)
                | st.sampled_from([b"<", b">", b"&", b"]]>", b"<!--"])
            )
        elif action == "flip" and body:
            body[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "delete":
            del body[at : at + draw(st.integers(1, 32))]
        elif action == "duplicate":
            body[at:at] = body[at : at + draw(st.integers(1, 200))]
    return bytes(body)


# No wall-clock deadline: a busy machine says nothing about the reader. check() bounds its work.
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(body=st.binary(max_size=4096), url=BASE_URLS)
def test_random_bytes(body: bytes, url: str) -> None:
    check(body, url)


@FUZZ
@given(body=st.binary(max_size=2048), url=BASE_URLS)
def test_random_bytes_behind_a_gzip_header(body: bytes, url: str) -> None:
    check(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + body, url)


@FUZZ
@given(body=mutated(), url=BASE_URLS)
def test_mutated_documents(body: bytes, url: str) -> None:
    check(body, url)


@FUZZ
@given(body=mutated())
def test_mutated_documents_gzipped(body: bytes) -> None:
    check(gzip.compress(body), "https://example.com/sitemap.xml.gz")


def test_seeds_are_read_whole() -> None:
    expected = {
        "urlset": [
            "https://example.com/a",
            "https://example.com/",
            "https://example.com/b?x=1&y=2",
            "https://example.com/c",
        ],
        "index": ["https://example.com/s1.xml", "https://example.com/s2.xml.gz"],
        "rss": ["https://example.com/one", "https://example.com/two"],
        "atom": ["https://example.com/a", "https://example.com/b"],
        "text": ["https://example.com/1", "https://example.com/2?x=y"],
    }
    expected["gzip"] = expected["urlset"]
    expected["gzip_text"] = expected["text"]
    for name, body in SEEDS.items():
        sitemap = open_sitemap(body)
        assert [entry.url for entry in sitemap.entries()] == expected[name], name
        assert sitemap.error is None, name
        check(body, "")
