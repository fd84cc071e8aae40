"""Sitemap parsing: kinds, damage, extensions, hostile input, memory."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapersky.sitemaps import PageEntry, Sitemap, SitemapRef, open_sitemap, parse_lastmod

SAMPLES = Path(__file__).parent / "sitemap_samples"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
UTC = UTC
MIB = 1024 * 1024
FUZZ_ATOM = settings(max_examples=100, deadline=None)


def read(body: bytes, **kwargs: object) -> tuple[Sitemap, list[PageEntry | SitemapRef]]:
    sitemap = open_sitemap(body, **kwargs)
    return sitemap, list(sitemap.entries())


def urls(entries: list[PageEntry | SitemapRef]) -> list[str]:
    return [entry.url for entry in entries]


def urlset(*items: str, ns: str | None = SITEMAP_NS, extra: str = "") -> bytes:
    xmlns = f' xmlns="{ns}"' if ns else ""
    body = "".join(f"<url>{item}</url>" for item in items)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset{xmlns}{extra}>{body}</urlset>\n'.encode()
    )


def loc(url: str) -> str:
    return f"<loc>{url}</loc>"


def numbered_urlset(count: int) -> bytes:
    rows = "".join(
        f"  <url>\n    <loc>https://example.com/p/{i}</loc>\n    <lastmod>2024-03-0{i % 9 + 1}</lastmod>\n"
        "    <changefreq>weekly</changefreq>\n    <priority>0.5</priority>\n  </url>\n"
        for i in range(count)
    )
    return f'<?xml version="1.0"?>\n<urlset xmlns="{SITEMAP_NS}">\n{rows}</urlset>\n'.encode()


# --- kinds and fields -------------------------------------------------------


def test_urlset_fields() -> None:
    body = urlset(
        loc("https://example.com/")
        + "<lastmod>2024-05-06T10:11:12+02:00</lastmod><changefreq>daily</changefreq><priority>0.8</priority>",
        loc("https://example.com/about"),
    )
    sitemap, entries = read(body)
    assert sitemap.kind == "urlset"
    assert sitemap.error is None
    assert sitemap.is_gzipped is False
    assert sitemap.count == 2
    assert entries[0] == PageEntry(
        url="https://example.com/",
        lastmod=datetime(2024, 5, 6, 8, 11, 12, tzinfo=UTC),
        changefreq="daily",
        priority=0.8,
    )
    assert entries[1] == PageEntry(url="https://example.com/about")


def test_sample_files_parse() -> None:
    sitemap, entries = read((SAMPLES / "wordpress_index.xml").read_bytes())
    assert sitemap.kind == "index"
    assert [(ref.url, ref.lastmod) for ref in entries] == [
        ("https://blog.example.com/post-sitemap.xml", datetime(2024, 4, 30, 18, 2, 11, tzinfo=UTC)),
        ("https://blog.example.com/page-sitemap.xml", datetime(2023, 12, 1, 9, 0, tzinfo=UTC)),
        ("https://blog.example.com/category-sitemap.xml", None),
    ]
    sitemap, entries = read((SAMPLES / "yoast_posts.xml").read_bytes())
    assert sitemap.kind == "urlset"
    assert sitemap.error is None
    assert urls(entries) == ["https://blog.example.com/", "https://blog.example.com/hello-world/"]
    assert entries[1].images == [{"loc": "https://blog.example.com/wp-content/uploads/cover.jpg"}]


@pytest.mark.parametrize(
    "ns",
    [
        SITEMAP_NS,
        "http://www.google.com/schemas/sitemap/0.84",
        "http://www.google.com/schemas/sitemap/0.9",
        "https://www.sitemaps.org/schemas/sitemap/0.9",
        None,
    ],
)
def test_namespaces_current_outdated_and_missing(ns: str | None) -> None:
    body = urlset(
        loc("https://example.com/a") + "<priority>0.3</priority>",
        loc("https://example.com/b"),
        ns=ns,
    )
    sitemap, entries = read(body)
    assert sitemap.kind == "urlset"
    assert urls(entries) == ["https://example.com/a", "https://example.com/b"]
    assert entries[0].priority == 0.3


def test_children_outside_the_urlset_namespace_are_read() -> None:
    body = (
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:old="http://www.google.com/schemas/sitemap/0.84">'
        "<url><old:loc>https://example.com/a</old:loc><old:lastmod>2024-01-02</old:lastmod></url></urlset>"
    ).encode()
    _, entries = read(body)
    assert urls(entries) == ["https://example.com/a"]
    assert entries[0].lastmod == datetime(2024, 1, 2, tzinfo=UTC)


def test_undeclared_extension_prefixes_are_tolerated() -> None:
    body = urlset(
        loc("https://example.com/a")
        + "<image:image><image:loc>https://example.com/a.png</image:loc></image:image>",
        loc("https://example.com/b"),
        ns=None,
    )
    sitemap, entries = read(body)
    assert sitemap.error is None
    assert urls(entries) == ["https://example.com/a", "https://example.com/b"]
    assert entries[0].images == [{"loc": "https://example.com/a.png"}]
    sitemap, entries = read(
        b"<sm:urlset><sm:url><sm:loc>https://example.com/a</sm:loc></sm:url></sm:urlset>"
    )
    assert sitemap.kind == "urlset"
    assert sitemap.error is None
    assert urls(entries) == ["https://example.com/a"]


def test_sitemap_index_children() -> None:
    body = (
        f'<?xml version="1.0"?><sitemapindex xmlns="{SITEMAP_NS}">'
        "<sitemap><loc>https://example.com/s1.xml.gz</loc><lastmod>2024-02-03T04:05:06Z</lastmod></sitemap>"
        "<sitemap><loc> https://example.com/s2.xml?page=2&amp;lang=en </loc></sitemap>"
        "<sitemap><loc>/relative.xml</loc></sitemap>"
        "<sitemap><lastmod>2024-01-01</lastmod></sitemap>"
        "</sitemapindex>"
    ).encode()
    sitemap, entries = read(body, url="https://example.com/sitemap_index.xml")
    assert sitemap.kind == "index"
    assert entries == [
        SitemapRef("https://example.com/s1.xml.gz", datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)),
        SitemapRef("https://example.com/s2.xml?page=2&lang=en", None),
        SitemapRef("https://example.com/relative.xml", None),
    ]
    assert sitemap.count == 3
    assert sitemap.deviations == {"relative <loc> resolved against the sitemap URL": 1}


def test_a_relative_loc_that_no_url_could_be_is_dropped() -> None:
    # Prose or markup broken into text resolves to a junk URL; a reference cannot hold these.
    texts = ["see the list below", 'p.html" data-x="y">', "/a<b", "/{id}", "/x|y"]
    body = (
        f'<urlset xmlns="{SITEMAP_NS}">'
        + "".join(f"<url><loc>{escape(text)}</loc></url>" for text in texts)
        + "<url><loc>/kept?a=1&amp;b=2</loc></url></urlset>"
    ).encode()
    sitemap, entries = read(body, url="https://example.com/sitemap.xml")
    assert urls(entries) == ["https://example.com/kept?a=1&b=2"]
    assert sitemap.deviations == {"relative <loc> resolved against the sitemap URL": 1}


def test_text_sitemap_skips_junk_lines() -> None:
    body = (
        b"https://example.com/a\n"
        b"# a comment\n"
        b"\n"
        b"   https://example.com/b   \r\n"
        b"not a url\n"
        b"ftp://example.com/file\n"
        b"https://example.com/with space\n"
        b"https://example.com/\xff\xfebad-utf8\n"
        b"https://example.com/nul\x00byte\n"
        b"https://example.com/bell\x07\n"
        b"http://example.com/c?x=1&y=2\n"
        b"https://\n"
        b"/relative/path\n"
        b"https://example.com/last-without-newline"
    )
    sitemap, entries = read(body)
    assert sitemap.kind == "text"
    assert urls(entries) == [
        "https://example.com/a",
        "https://example.com/b",
        "http://example.com/c?x=1&y=2",
        "https://example.com/last-without-newline",
    ]
    _, entries = read(body, url="https://example.com/sitemap.txt")
    assert "https://example.com/relative/path" in urls(entries)


def test_text_without_any_url_is_not_a_sitemap() -> None:
    sitemap, entries = read(b"Service temporarily unavailable.\nPlease retry later.\n")
    assert sitemap.kind is None
    assert entries == []


def test_text_overlong_line_is_skipped() -> None:
    body = (
        b"https://example.com/a\n"
        + b"https://example.com/"
        + b"x" * 300_000
        + b"\nhttps://example.com/b\n"
    )
    _, entries = read(body)
    assert urls(entries) == ["https://example.com/a", "https://example.com/b"]


def test_rss_items() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
  <title>Blog</title><link>https://example.com/</link>
  <item><title>One</title><link>https://example.com/one</link><pubDate>Mon, 06 May 2024 10:11:00 +0200</pubDate></item>
  <item><title>Two</title><link> /two </link><dc:date>2024-05-07T00:00:00Z</dc:date></item>
  <item><guid>https://example.com/three</guid></item>
  <item><guid isPermaLink="false">tag:example.com,2024:4</guid></item>
  <item><title>No link</title></item>
</channel></rss>"""
    sitemap, entries = read(body, url="https://example.com/feed.xml")
    assert sitemap.kind == "rss"
    assert urls(entries) == [
        "https://example.com/one",
        "https://example.com/two",
        "https://example.com/three",
    ]
    assert entries[0].lastmod == datetime(2024, 5, 6, 8, 11, tzinfo=UTC)
    assert entries[1].lastmod == datetime(2024, 5, 7, tzinfo=UTC)
    # Without the feed's own URL a relative link cannot be resolved.
    _, entries = read(body)
    assert urls(entries) == ["https://example.com/one", "https://example.com/three"]


def test_rss_1_0_items() -> None:
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.com/"><title>Blog</title><link>https://example.com/</link></channel>
  <item rdf:about="https://example.com/1"><link>https://example.com/1</link><dc:date>2024-01-01T00:00:00Z</dc:date></item>
  <item rdf:about="https://example.com/2"><link>https://example.com/2</link></item>
</rdf:RDF>"""
    sitemap, entries = read(body)
    assert sitemap.kind == "rss"
    assert [(entry.url, entry.lastmod) for entry in entries] == [
        ("https://example.com/1", datetime(2024, 1, 1, tzinfo=UTC)),
        ("https://example.com/2", None),
    ]


def test_atom_1_0_entries() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Blog</title><link href="https://example.com/"/><link rel="self" href="https://example.com/atom.xml"/>
  <updated>2024-05-01T00:00:00Z</updated>
  <entry><title>A</title>
    <link rel="self" href="https://example.com/api/a"/>
    <link rel="alternate" type="text/html" href="https://example.com/a"/>
    <updated>2024-05-02T03:04:05+01:00</updated><published>2024-01-01T00:00:00Z</published>
  </entry>
  <entry><link href="b.html"/><published>2024-05-03</published></entry>
  <entry><link rel="enclosure" href="https://example.com/c.mp3"/></entry>
</feed>"""
    sitemap, entries = read(body, url="https://example.com/blog/atom.xml")
    assert sitemap.kind == "atom"
    assert urls(entries) == ["https://example.com/a", "https://example.com/blog/b.html"]
    assert entries[0].lastmod == datetime(2024, 5, 2, 2, 4, 5, tzinfo=UTC)
    assert entries[1].lastmod == datetime(2024, 5, 3, tzinfo=UTC)


def test_an_atom_entry_is_listed_by_its_alternate_link_only() -> None:
    # Shapes from real feeds: a Blogger post (replies, edit, self, alternate, as googleblog.com
    # serves them), a GData API entry with only self and edit links (Google Contacts), trafilatura's
    # feed fixture (tests/resources/feed1.atom: an entry whose only link is rel="self", which
    # trafilatura's own feed reader skips), a podcast entry with only an enclosure, and rel written
    # as the IANA IRI it abbreviates (RFC 4287 4.2.7.2).
    body = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns='http://www.w3.org/2005/Atom'><title>Blog</title>
  <link rel='self' type='application/atom+xml' href='https://blog.example.com/feeds/posts/default'/>
  <entry><title>Post</title>
    <link rel='replies' type='application/atom+xml' href='https://blog.example.com/feeds/7306/comments/default'/>
    <link rel='replies' type='text/html' href='https://blog.example.com/2024/04/post.html#comment-form'/>
    <link rel='edit' type='application/atom+xml' href='https://www.blogger.com/feeds/1/posts/default/7306'/>
    <link rel='self' type='application/atom+xml' href='https://www.blogger.com/feeds/1/posts/default/7306'/>
    <link rel='alternate' type='text/html' href='https://blog.example.com/2024/04/post.html'/>
    <updated>2024-04-16T10:05:00Z</updated></entry>
  <entry><title>Contact</title>
    <link rel='self' type='application/atom+xml' href='https://blog.example.com/m8/feeds/contacts/base/7ae4'/>
    <link rel='edit' type='application/atom+xml' href='https://blog.example.com/m8/feeds/contacts/base/7ae4/1209'/></entry>
  <entry><title>Self-referenced link</title><link href="https://blog.example.com/1000" rel="self"/></entry>
  <entry><title>Episode</title><link rel="enclosure" type="audio/mpeg" href="https://blog.example.com/e1.mp3"/>
    <link rel="related" href="https://other.example/"/><link rel="via" href="https://other.example/src"/></entry>
  <entry><link rel=" http://www.iana.org/assignments/relation/alternate " href="https://blog.example.com/iri"/></entry>
  <entry><link rel="ALTERNATE" href="https://blog.example.com/upper"/></entry>
</feed>"""
    _, entries = read(body, url="https://blog.example.com/feeds/posts/default")
    assert urls(entries) == [
        "https://blog.example.com/2024/04/post.html",
        "https://blog.example.com/iri",
        "https://blog.example.com/upper",
    ]


NOT_THE_PAGE = ["self", "edit", "edit-media", "enclosure", "related", "via", "replies", "license"]


@FUZZ_ATOM
@given(
    rels=st.lists(
        st.sampled_from(NOT_THE_PAGE) | st.text("abcdefxyz:/#.-", min_size=1), max_size=5
    ),
    at=st.integers(0, 5),
    spelled=st.sampled_from(["", ' rel="alternate"', " rel=' Alternate '", ' rel=""', " rel=' '"]),
)
def test_only_an_alternate_or_rel_less_link_lists_an_atom_entry(
    rels: list[str], at: int, spelled: str
) -> None:
    links = [
        f'<link rel="{rel}" href="https://example.com/{index}"/>' for index, rel in enumerate(rels)
    ]
    body = '<feed xmlns="http://www.w3.org/2005/Atom"><entry>{}</entry></feed>'
    assert urls(read(body.format("".join(links)).encode())[1]) == []
    links.insert(at, f'<link{spelled} href="https://example.com/page"/>')
    assert urls(read(body.format("".join(links)).encode())[1]) == ["https://example.com/page"]


def test_feed_link_that_runs_on_into_markup_is_no_link() -> None:
    # A broken attribute swallows the elements after it; what it holds is no URL.
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom">
  <entry><link rel="alternate" href="><title>Blog</title>
  <entry><link href="https://example.com/b"/></entry>
  <entry><link href="/with space"/></entry>
</feed>"""
    _, entries = read(body, url="https://example.com/atom.xml")
    # The broken value runs on to the next quote, taking the second entry's link with it.
    assert urls(entries) == ["https://example.com/with space"]


def test_atom_0_3_entries() -> None:
    body = b"""<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Old blog</title>
  <entry><title>A</title><link rel="alternate" type="text/html" href="https://example.com/a"/>
    <issued>2004-01-01T00:00:00Z</issued><modified>2004-02-01T12:00:00Z</modified></entry>
  <entry><title>B</title><link rel="alternate" type="text/html" href="https://example.com/b"/>
    <issued>2004-03-01T00:00:00-05:00</issued></entry>
</feed>"""
    sitemap, entries = read(body)
    assert sitemap.kind == "atom"
    assert [(entry.url, entry.lastmod) for entry in entries] == [
        ("https://example.com/a", datetime(2004, 2, 1, 12, tzinfo=UTC)),
        ("https://example.com/b", datetime(2004, 3, 1, 5, tzinfo=UTC)),
    ]


# --- gzip -------------------------------------------------------------------

PLAIN = urlset(loc("https://example.com/gz"))


@pytest.mark.parametrize(
    ("body", "hints", "gzipped"),
    [
        (gzip.compress(PLAIN), {}, True),
        (gzip.compress(PLAIN), {"url": "https://example.com/sitemap.xml"}, True),
        (gzip.compress(PLAIN), {"url": "https://example.com/sitemap.xml.gz"}, True),
        (gzip.compress(gzip.compress(PLAIN)), {}, True),
        # Named .gz but already decoded (as HTTP middlewares do): read as plain.
        (PLAIN, {"url": "https://example.com/sitemap.xml.gz"}, False),
    ],
)
def test_gzip_decided_by_magic_bytes(body: bytes, hints: dict, gzipped: bool) -> None:
    sitemap, entries = read(body, **hints)
    assert sitemap.kind == "urlset"
    assert sitemap.is_gzipped is gzipped
    assert sitemap.error is None
    assert urls(entries) == ["https://example.com/gz"]


def test_gzip_text_sitemap_and_multi_member() -> None:
    body = gzip.compress(b"https://example.com/1\n") + gzip.compress(b"https://example.com/2\n")
    sitemap, entries = read(body)
    assert sitemap.kind == "text"
    assert sitemap.is_gzipped is True
    assert urls(entries) == ["https://example.com/1", "https://example.com/2"]


def test_truncated_gzip_keeps_entries_before_the_cut() -> None:
    full = gzip.compress(numbered_urlset(20_000))
    sitemap, entries = read(full[: len(full) // 2])
    assert sitemap.kind == "urlset"
    assert sitemap.error == "truncated gzip data"
    assert 1_000 < len(entries) < 20_000
    assert urls(entries[:2]) == ["https://example.com/p/0", "https://example.com/p/1"]


def test_corrupt_gzip_is_not_a_sitemap() -> None:
    body = gzip.compress(PLAIN)[:10] + b"\x00garbage that is not deflate data" * 10
    sitemap, entries = read(body)
    assert sitemap.kind is None
    assert sitemap.is_gzipped is True
    assert sitemap.error == "corrupt gzip data"
    assert entries == []


# --- tolerated oddities -------------------------------------------------------


def test_bom_and_blank_lines_before_the_xml_declaration() -> None:
    body = b"\xef\xbb\xbf\r\n\n   \t\n" + urlset(loc("https://example.com/a"))
    sitemap, entries = read(body)
    assert sitemap.kind == "urlset"
    assert sitemap.error is None
    assert urls(entries) == ["https://example.com/a"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(encoding: str) -> None:
    rows = "".join(f"<url><loc>https://example.com/caf\u00e9/{i}</loc></url>" for i in range(3_000))
    text = f'<?xml version="1.0" encoding="UTF-16"?><urlset xmlns="{SITEMAP_NS}">{rows}</urlset>'
    body = "\ufeff".encode(encoding) + text.encode(encoding)
    sitemap, entries = read(body)
    assert sitemap.kind == "urlset"
    assert sitemap.error is None
    assert len(entries) == 3_000
    assert entries[-1].url == "https://example.com/caf\u00e9/2999"


def test_comments_and_processing_instructions() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!-- generated by a plugin -->\n<?xml-stylesheet type="text/xsl" href="/s.xsl"?>\n'
        b"<urlset><!-- first --><url><!-- inside --><loc>https://example.com/a<!-- split -->/b</loc></url>"
        b"<!-- between --><url><loc>https://example.com/c</loc><!-- after --></url></urlset><!-- trailing -->"
    )
    sitemap, entries = read(body)
    assert sitemap.error is None
    assert urls(entries) == ["https://example.com/a/b", "https://example.com/c"]


def test_whitespace_cdata_and_entities_in_loc() -> None:
    body = urlset(
        "<loc>\n   https://example.com/a?x=1&amp;y=2   \n</loc>",
        "<loc><![CDATA[https://example.com/b?x=1&y=<2>]]></loc>",
        "<loc>https://example.com/&#99;&#x64;</loc>",
        "<loc>https://example.com/q?a=&quot;1&quot;&apos;&lt;&gt;</loc>",
    )
    _, entries = read(body)
    assert urls(entries) == [
        "https://example.com/a?x=1&y=2",
        "https://example.com/b?x=1&y=<2>",
        "https://example.com/cd",
        'https://example.com/q?a="1"\'<>',
    ]


def test_empty_missing_off_site_and_non_http_locs_are_skipped() -> None:
    body = urlset(
        "<loc></loc>",
        "<loc>   </loc>",
        "<lastmod>2024-01-01</lastmod>",
        loc("ftp://example.com/file"),
        loc("javascript:alert(1)"),
        loc("mailto:a@example.com"),
        loc("https:///no-host"),
        loc("//elsewhere.org/page"),
        loc("elsewhere.org/page"),
        loc("HTTPS://EXAMPLE.COM/Upper"),
        loc("https://example.com/kept"),
    )
    sitemap, entries = read(body, url="https://example.com/sitemap.xml")
    assert urls(entries) == ["HTTPS://EXAMPLE.COM/Upper", "https://example.com/kept"]
    assert sitemap.count == 2
    assert sitemap.deviations == {}


def test_relative_locs_on_the_site_are_resolved_and_recorded() -> None:
    # As Hugo sites with an empty baseURL and hand-written CMS templates publish them.
    body = urlset(
        loc("/blog/first-post/"),
        loc("about.html"),
        loc("//www.example.com/contact"),
        loc("www.example.com/team"),
        loc("example.com/jobs?x=1"),
        loc("https://example.com/absolute"),
    )
    sitemap, entries = read(body, url="https://www.example.com/en/sitemap.xml")
    assert urls(entries) == [
        "https://www.example.com/blog/first-post/",
        "https://www.example.com/en/about.html",
        "https://www.example.com/contact",
        "https://www.example.com/team",
        "https://example.com/jobs?x=1",
        "https://example.com/absolute",
    ]
    assert sitemap.error is None
    assert sitemap.deviations == {"relative <loc> resolved against the sitemap URL": 5}


def test_a_sitemap_element_misplaced_in_a_urlset_is_a_child_sitemap() -> None:
    # As trafilatura's tests/resources/sitemap-hreflang.xml has it, after the <url> entries.
    body = urlset(loc("https://example.com/english/page.html")).replace(
        b"</urlset>", b"<sitemap><loc>https://example.com/sitemap2.xml.gz</loc></sitemap></urlset>"
    )
    sitemap, entries = read(body, url="https://example.com/sitemap.xml")
    assert entries == [
        PageEntry("https://example.com/english/page.html"),
        SitemapRef("https://example.com/sitemap2.xml.gz"),
    ]
    assert sitemap.deviations == {"<sitemap> inside a urlset followed as a child sitemap": 1}


def test_relative_locs_without_a_sitemap_url_are_skipped() -> None:
    _sitemap, entries = read(urlset(loc("/page"), loc("https://example.com/kept")))
    assert urls(entries) == ["https://example.com/kept"]


def test_query_string_sitemap_url() -> None:
    body = b"/p/1\n/p/2?ref=sitemap\n"
    sitemap, entries = read(body, url="https://example.com/sitemap.php?page=3&type=text")
    assert sitemap.kind == "text"
    assert urls(entries) == ["https://example.com/p/1", "https://example.com/p/2?ref=sitemap"]


def test_trailing_junk_after_the_root_is_ignored() -> None:
    body = (
        urlset(loc("https://example.com/a"))
        + b"<script>analytics()</script>\n<p>appended by the host"
    )
    sitemap, entries = read(body)
    assert sitemap.error is None
    assert urls(entries) == ["https://example.com/a"]


# --- damage -----------------------------------------------------------------


def test_truncated_xml_keeps_every_entry_before_the_damage() -> None:
    body = urlset(*(loc(f"https://example.com/{i}") for i in range(5)))
    cut = body.index(b"https://example.com/3") + 10
    sitemap, entries = read(body[:cut])
    assert urls(entries) == [f"https://example.com/{i}" for i in range(3)]
    assert sitemap.error == "XML ended before the document was complete near line 2"


def test_truncated_right_after_a_closed_entry() -> None:
    body = urlset(loc("https://example.com/a"), loc("https://example.com/b"))
    cut = body.rindex(b"</url>") + len(b"</url>")
    sitemap, entries = read(body[:cut])
    assert urls(entries) == ["https://example.com/a", "https://example.com/b"]
    assert sitemap.error == "XML ended before the document was complete near line 2"


def test_malformed_xml_is_read_past_and_the_document_is_not_quoted() -> None:
    body = urlset(
        loc("https://example.com/a"),
        loc("https://example.com/b"),
        "<loc>https://example.com/c</wrongTAGsecret>",
        loc("https://example.com/d"),
    )
    sitemap, entries = read(body)
    assert urls(entries) == [f"https://example.com/{name}" for name in "abcd"]
    assert sitemap.error == "malformed XML near line 2"
    assert sitemap.count == 4


def test_invalid_utf8_in_the_middle_loses_only_its_entry() -> None:
    body = urlset(
        loc("https://example.com/a"), loc("https://example.com/\xff"), loc("https://example.com/c")
    )
    body = body.replace("\xff".encode(), b"\xff\xfe")
    sitemap, entries = read(body)
    assert urls(entries) == ["https://example.com/a", "https://example.com/c"]
    assert sitemap.error == "malformed XML near line 2: forbidden character"


# A real video sitemap's shape (advertools' tests/data/sitemap_testing/video_sitemap.xml is the
# same generator): the description after <loc> holds a bare "&".
BARE_AMPERSAND_VIDEO = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="{SITEMAP_NS}" xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">
  <url>
    <loc>https://example.com/videos/some_video_landing_page.html</loc>
    <video:video>
      <video:thumbnail_loc>https://example.com/thumbs/123.jpg</video:thumbnail_loc>
      <video:title>Grilling steaks for summer</video:title>
      <video:description>Alkis shows you how to get perfectly done steaks & burgers every time</video:description>
      <video:content_loc>https://streamserver.example.com/video123.mp4</video:content_loc>
    </video:video>
  </url>
  <url><loc>https://example.com/videos/second.html</loc></url>
</urlset>
""".encode()


@pytest.mark.parametrize("chunked", [False, True])
def test_a_bare_ampersand_keeps_its_entry_and_says_what_it_is(chunked: bool) -> None:
    body = BARE_AMPERSAND_VIDEO
    if chunked:  # the damage in a later chunk than the first entries
        body = body.replace(
            b"<url><loc>https://example.com/videos/second",
            b"<url><loc>https://example.com/videos/second".replace(
                b"<url>", b" " * 70_000 + b"<url>"
            ),
        )
    sitemap, entries = read(body)
    assert urls(entries) == [
        "https://example.com/videos/some_video_landing_page.html",
        "https://example.com/videos/second.html",
    ]
    assert entries[0].videos[0]["content_loc"] == "https://streamserver.example.com/video123.mp4"
    assert sitemap.error == "malformed XML near line 8: unescaped '&'"


def test_damage_and_truncation_are_both_reported() -> None:
    body = BARE_AMPERSAND_VIDEO[: BARE_AMPERSAND_VIDEO.index(b"second") + 3]
    sitemap, entries = read(body)
    assert urls(entries) == ["https://example.com/videos/some_video_landing_page.html"]
    assert sitemap.error == "malformed XML near line 8: unescaped '&'; cut short"


@pytest.mark.parametrize(
    "body",
    [
        b'<!DOCTYPE html>\n<html lang="en"><head><title>Not found</title></head><body><p>Oops</p></body></html>',
        b"<!doctype html><html lang=en><body><p>404<br></body></html>",
        b"<html><head><meta charset=utf-8><title>Page not found</title></head><body></body></html>",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>Not found</body></html>',
        b'\n\n  <!-- cache miss --><!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN"><HTML><BODY>x</BODY></HTML>',
    ],
)
def test_html_soft_404_is_not_a_sitemap(body: bytes) -> None:
    sitemap, entries = read(body, url="https://example.com/sitemap.xml")
    assert sitemap.kind is None
    assert sitemap.error == "HTML page, not a sitemap"
    assert entries == []
    assert sitemap.count == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "empty document"),
        (b" \r\n\t\n", "empty document"),
        (b"\xef\xbb\xbf", "empty document"),
        (b'<?xml version="1.0"?><error><code>404</code></error>', "not a sitemap"),
        (b'{"error": "not found"}', "not a sitemap"),
        (b"\x00\x01\x02\x03", "not a sitemap"),
    ],
)
def test_other_non_sitemaps(body: bytes, error: str) -> None:
    sitemap, entries = read(body)
    assert sitemap.kind is None
    assert sitemap.error == error
    assert entries == []


# --- field formats ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-06", datetime(2024, 5, 6, tzinfo=UTC)),
        ("2024-05", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-05-06T10:11:12Z", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("2024-05-06T10:11:12+00:00", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("2024-05-06T10:11:12-05:00", datetime(2024, 5, 6, 15, 11, 12, tzinfo=UTC)),
        ("2024-05-06T10:11+01:00", datetime(2024, 5, 6, 9, 11, tzinfo=UTC)),
        (
            "2024-05-06T10:11:12.123456789+02:00",
            datetime(2024, 5, 6, 8, 11, 12, 123456, tzinfo=UTC),
        ),
        ("2024-05-06T10:11:12", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("2024-05-06 10:11:12", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("2024-05-06t10:11:12z", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("2024-05-06T10:11:12+0200", datetime(2024, 5, 6, 8, 11, 12, tzinfo=UTC)),
        ("2024-05-06 10:11:12 UTC", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("  2024-05-06T10:11:12Z \n", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("Mon, 06 May 2024 10:11:12 GMT", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("Mon, 06 May 2024 10:11:12 +0200", datetime(2024, 5, 6, 8, 11, 12, tzinfo=UTC)),
        ("06 May 2024 10:11:12 -0000", datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)),
        ("2024-13-01", None),
        ("2024-02-30", None),
        ("2024-05-06T25:00:00Z", None),
        ("yesterday", None),
        ("0001-01-01T00:00:00+05:00", None),
        ("9999-12-31T23:59:59-05:00", None),
        ("1" * 200, None),
        ("", None),
        (None, None),
    ],
)
def test_lastmod_formats(value: str | None, expected: datetime | None) -> None:
    parsed = parse_lastmod(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC
    if value:
        _, entries = read(urlset(loc("https://example.com/") + f"<lastmod>{value}</lastmod>"))
        assert entries[0].lastmod == expected


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("0.5", 0.5),
        (" 1.0 ", 1.0),
        ("0", 0.0),
        ("1", 1.0),
        (".25", 0.25),
        ("1.5", None),
        ("-0.1", None),
        ("high", None),
        ("nan", None),
        ("inf", None),
        ("0,5", None),
        ("", None),
    ],
)
def test_priority_values(priority: str, expected: float | None) -> None:
    _, entries = read(urlset(loc("https://example.com/") + f"<priority>{priority}</priority>"))
    assert entries[0].priority == expected


@pytest.mark.parametrize(
    ("changefreq", "expected"),
    [
        ("daily", "daily"),
        ("WEEKLY", "weekly"),
        ("  Monthly\n", "monthly"),
        ("always", "always"),
        ("never", "never"),
        ("hourly", "hourly"),
        ("yearly", "yearly"),
        ("sometimes", None),
        ("every day", None),
        ("", None),
    ],
)
def test_changefreq_values(changefreq: str, expected: str | None) -> None:
    _, entries = read(
        urlset(loc("https://example.com/") + f"<changefreq>{changefreq}</changefreq>")
    )
    assert entries[0].changefreq == expected


# --- extensions -------------------------------------------------------------

EXTENSIONS = (
    ' xmlns:xhtml="http://www.w3.org/1999/xhtml"'
    ' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"'
    ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    ' xmlns:video="http://www.google.com/schemas/sitemap-video/1.1"'
)


def test_hreflang_alternates() -> None:
    body = urlset(
        loc("https://example.com/en/")
        + '<xhtml:link rel="alternate" hreflang="en" href="https://example.com/en/"/>'
        + '<xhtml:link rel="alternate" hreflang="de-AT" href=" https://example.com/de/ "/>'
        + '<xhtml:link rel="alternate" hreflang="x-default" href="https://example.com/"/>'
        + '<xhtml:link rel="alternate" href="https://example.com/no-lang/"/>'
        + '<xhtml:link rel="canonical" hreflang="fr" href="https://example.com/fr/"/>'
        + '<xhtml:link rel="alternate" hreflang="es" href="/relative/"/>',
        loc("https://example.com/plain"),
        extra=EXTENSIONS,
    )
    _, entries = read(body)
    assert entries[0].alternates == [
        {"hreflang": "en", "href": "https://example.com/en/"},
        {"hreflang": "de-AT", "href": "https://example.com/de/"},
        {"hreflang": "x-default", "href": "https://example.com/"},
    ]
    assert entries[1].alternates == []


def test_all_images_with_only_present_keys() -> None:
    body = urlset(
        loc("https://example.com/gallery")
        + "<image:image><image:loc>https://example.com/1.jpg</image:loc></image:image>"
        + "<image:image><image:loc> https://example.com/2.jpg </image:loc><image:title>Two</image:title>"
        + "<image:caption>Second &amp; best</image:caption><image:license>https://x/l</image:license></image:image>"
        + "<image:image><image:title>No location</image:title></image:image>"
        + "<image:image><image:loc>https://example.com/3.jpg</image:loc><image:caption>Three</image:caption>"
        + "</image:image>",
        extra=EXTENSIONS,
    )
    _, entries = read(body)
    assert entries[0].images == [
        {"loc": "https://example.com/1.jpg"},
        {"loc": "https://example.com/2.jpg", "title": "Two", "caption": "Second & best"},
        {"loc": "https://example.com/3.jpg", "caption": "Three"},
    ]


def test_news() -> None:
    body = urlset(
        loc("https://example.com/story")
        + "<news:news><news:publication><news:name>The Daily</news:name><news:language>en</news:language>"
        + "</news:publication><news:publication_date>2024-05-06T10:00:00+02:00</news:publication_date>"
        + "<news:title>Big story</news:title></news:news>",
        loc("https://example.com/plain"),
        loc("https://example.com/partial")
        + "<news:news><news:title>Only a title</news:title></news:news>",
        extra=EXTENSIONS,
    )
    _, entries = read(body)
    assert entries[0].news == {
        "title": "Big story",
        "publication_name": "The Daily",
        "publication_language": "en",
        "publication_date": "2024-05-06T08:00:00+00:00",
    }
    assert entries[1].news is None
    assert entries[2].news == {
        "title": "Only a title",
        "publication_name": None,
        "publication_language": None,
        "publication_date": None,
    }


def test_videos_kept() -> None:
    video = (
        "<video:video><video:thumbnail_loc>https://example.com/t{n}.jpg</video:thumbnail_loc>"
        "<video:title>V{n}</video:title><video:description> About {n} </video:description>"
        "<video:content_loc>https://example.com/v{n}.mp4</video:content_loc>"
        "<video:duration>600</video:duration><video:price currency='EUR'>1.99</video:price></video:video>"
    )
    no_url = "<video:video><video:title>Nothing to watch</video:title></video:video>"
    body = urlset(
        loc("https://example.com/watch") + "".join(video.format(n=n) for n in (1, 2)) + no_url,
        loc("https://example.com/none"),
        extra=EXTENSIONS,
    )
    _, entries = read(body)
    assert entries[0].videos == [
        {
            "thumbnail_loc": f"https://example.com/t{n}.jpg",
            "title": f"V{n}",
            "description": f"About {n}",
            "content_loc": f"https://example.com/v{n}.mp4",
            "duration": "600",
        }
        for n in (1, 2)
    ]
    assert entries[1].videos is None


# --- hostile input ----------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset><url><loc>https://example.com/&lol9;</loc><lastmod>&lol9;</lastmod></url>
<url><loc>https://example.com/after</loc></url></urlset>"""


def test_billion_laughs_is_never_expanded() -> None:
    # How long refusing it takes is a bench figure (bench/parsing.py).
    tracemalloc.start()
    try:
        sitemap, entries = read(BILLION_LAUGHS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * MIB
    assert all("lol" not in entry.url for entry in entries)
    assert all(entry.lastmod is None for entry in entries if isinstance(entry, PageEntry))
    assert "lollol" not in repr(entries) + repr(sitemap.error)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE urlset [<!ENTITY % xxe SYSTEM "file:///etc/passwd"> %xxe;]>',
        '<!DOCTYPE urlset SYSTEM "file:///etc/passwd">',
        '<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/secret">]>',
    ],
)
def test_external_entities_and_dtds_are_never_loaded(doctype: str) -> None:
    body = (
        f'<?xml version="1.0"?>\n{doctype}\n<urlset xmlns="{SITEMAP_NS}">'
        "<url><loc>https://example.com/&xxe;</loc><lastmod>&xxe;</lastmod></url>"
        "<url><loc>https://example.com/b</loc></url></urlset>"
    ).encode()
    sitemap, entries = read(body)
    everything = repr(entries) + repr(sitemap.error) + repr(sitemap)
    assert "root:" not in everything
    assert "/bin/" not in everything
    assert all(entry.url.startswith("https://example.com/") for entry in entries)


def gzip_of(prefix: bytes, filler: bytes, size: int) -> bytes:
    """prefix + filler repeated up to size bytes, gzipped without ever holding the whole thing."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(prefix)]
    block = filler * (MIB // len(filler))
    for _ in range(size // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.flush())
    return b"".join(parts)


def test_gzip_bomb_is_capped_with_low_memory() -> None:
    # Empty comments: valid XML that the parser discards, so only the cap can stop it.
    body = gzip_of(
        b'<?xml version="1.0"?><urlset><url><loc>https://example.com/a</loc></url>',
        b"<!---->",
        200 * MIB,
    )
    assert len(body) < 1 * MIB
    tracemalloc.start()
    try:
        sitemap, entries = read(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sitemap.is_gzipped is True
    assert urls(entries) == ["https://example.com/a"]
    assert sitemap.error == f"decompressed size exceeds {50 * MIB} bytes"
    assert peak < 30 * MIB


def test_gzip_bomb_of_zeros_and_smaller_cap() -> None:
    body = gzip_of(b"", b"\x00", 200 * MIB)
    tracemalloc.start()
    try:
        sitemap, entries = read(body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sitemap.kind is None
    assert entries == []
    assert peak < 30 * MIB
    sitemap, entries = read(gzip.compress(numbered_urlset(2_000)), max_bytes=64 * 1024)
    assert sitemap.error == "decompressed size exceeds 65536 bytes"
    assert 100 < len(entries) < 2_000


def test_oversized_entry_is_refused() -> None:
    body = urlset(loc("https://example.com/a"), loc("https://example.com/b") + "<x/>" * 400_000)
    sitemap, entries = read(body)
    assert urls(entries) == ["https://example.com/a"]
    assert sitemap.error == f"entry exceeds {MIB} bytes"


def test_document_without_entries_is_abandoned() -> None:
    body = (
        b"<urlset>"
        + b"<x>filler</x>" * 200_000
        + b"<url><loc>https://example.com/late</loc></url></urlset>"
    )
    sitemap, entries = read(body)
    assert entries == []
    assert sitemap.error == f"no entry in the first {MIB} bytes"


def test_deep_nesting_is_refused_without_raising() -> None:
    # Closed properly: only the depth is wrong (an unclosed one would also be cut short).
    body = (
        b"<urlset><url><loc>https://example.com/a</loc></url>"
        + b"<x>" * 100_000
        + b"</x>" * 100_000
        + b"</urlset>"
    )
    sitemap, entries = read(body)
    assert urls(entries) == ["https://example.com/a"]
    assert (
        sitemap.error == "malformed XML near line 1"
    )  # lxml's depth limit, reported like any damage


def _traced_peak(entries: int) -> int:
    body = numbered_urlset(entries)
    tracemalloc.start()
    try:
        sitemap = open_sitemap(body)
        seen = sum(1 for _ in sitemap.entries())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == sitemap.count == entries and sitemap.error is None
    return peak


@pytest.mark.volume
def test_memory_stays_flat_on_a_large_urlset() -> None:
    # Flat means the same peak whatever the count: six times the entries, within 2 MiB of the
    # smaller peak (keeping the entries would cost tens of MiB more). tracemalloc's peak cannot
    # be missed between samples; libxml2's own allocations, which it does not see, are bounded
    # by the kernel's high-water mark in tests/integration/test_memory.py.
    small, large = _traced_peak(10_000), _traced_peak(60_000)
    assert large < small + 2 * MIB and large < 20 * MIB, (small, large)


def test_entries_can_be_read_again_and_never_raise() -> None:
    sitemap = open_sitemap(urlset(loc("https://example.com/a"), loc("https://example.com/b")))
    assert urls(list(sitemap.entries())) == ["https://example.com/a", "https://example.com/b"]
    assert urls(list(sitemap.entries())) == ["https://example.com/a", "https://example.com/b"]
    assert sitemap.count == 2
    unknown = open_sitemap(b"<nothing/>")
    assert list(unknown.entries()) == []
