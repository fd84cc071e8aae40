"""The diff of two readings of a urlset against full reads of both: whenever it answers, what it
says changed, vanished and counted is exactly what full reads tell; when it cannot be sure, None."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapersky.sitemaps import PageEntry, open_sitemap
from scrapersky.sitemaps.diff import keepable, listing_diff

URL = "https://example.com/sitemap.xml"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n'
)


def element(path: str, lastmod: str | None = None, image: str | None = None, blank="  ") -> str:
    parts = [f"<loc>https://example.com/{path}</loc>"]
    if lastmod:
        parts.append(f"<lastmod>{lastmod}</lastmod>")
    if image:
        parts.append(
            f"<image:image><image:loc>https://example.com/{image}</image:loc></image:image>"
        )
    return f"{blank}<url>{''.join(parts)}</url>\n"


def urlset(*elements: str, head: str = HEAD) -> bytes:
    return (head + "".join(elements) + "</urlset>\n").encode()


def read(body: bytes) -> dict[str, PageEntry]:
    sitemap = open_sitemap(body, url=URL)
    entries = [e for e in sitemap.entries() if isinstance(e, PageEntry)]
    assert sitemap.error is None and not sitemap.deviations
    return {entry.url: entry for entry in entries}


def diff(old: bytes, new: bytes, count: int | None = None):
    return listing_diff(keepable(old), len(read(old)) if count is None else count, new, url=URL)


OLD = urlset(*(element(f"p{i}", f"2024-01-{i + 1:02d}") for i in range(6)))


def test_only_what_changed_is_listed_and_the_rest_is_counted():
    new = urlset(
        element("p0", "2024-01-01"),
        element("p1", "2025-05-05"),  # a new lastmod
        *(element(f"p{i}", f"2024-01-{i + 1:02d}") for i in (2, 3)),  # p4, p5 leave
        element("n1", image="n1.png"),  # arrives
    )
    found = diff(OLD, new)
    assert found is not None
    assert [(e.url, e.lastmod and e.lastmod.year) for e in found.changed] == [
        ("https://example.com/p1", 2025),
        ("https://example.com/n1", None),
    ]
    assert found.changed[1].images == [{"loc": "https://example.com/n1.png"}]
    # p1's old element vanished too, but p1 is still listed: only p4 and p5 left.
    assert found.vanished == ["https://example.com/p4", "https://example.com/p5"]
    assert found.count == 5


def test_the_same_listing_served_gzipped_changes_nothing():
    found = listing_diff(keepable(OLD), 6, gzip.compress(OLD), url=URL)
    assert found is not None and found.changed == [] and found.vanished == [] and found.count == 6


def test_blanks_between_elements_may_change():
    new = OLD.replace(b"</url>\n  <url>", b"</url><url>").replace(b">\n  <url>", b"><url>")
    found = diff(OLD, new)
    assert found is not None and found.vanished == [] and found.count == 6
    assert {e.url for e in found.changed} == set(read(OLD))  # reread, and found the same


@pytest.mark.parametrize(
    "new",
    [
        # another prolog or root start tag: namespaces or encoding may differ
        urlset(element("p0"), head=HEAD.replace("UTF-8", "ISO-8859-1")),
        urlset(element("p0"), head=HEAD.replace('xmlns:image="', 'xmlns:image="x')),
        # comments or CDATA, which could hide or fake structure
        urlset(element("p0"), "<!-- </url><url> -->", element("p1")),
        urlset(element("p0"), "  <url><loc><![CDATA[https://example.com/p9]]></loc></url>\n"),
        # not one <url> element after another
        urlset(element("p0"), "  <other/>", element("p1")),
        urlset(element("p0"), "<?pi </url><url> ?>", element("p1")),
        urlset(element("p0"), head=HEAD.replace("<urlset", "<?pi </url> ?><urlset")),
        urlset(element("p0"), '  <url xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'),
        urlset("  <url><lastmod>2024-01-01</lastmod></url>\n"),
        # an element without a URL; a URL in two changed elements
        urlset(element("p0"), element("p0", "2025-01-01")),
        urlset(element("p0"), "  <url><loc> https://example.com/p0 </loc></url>\n"),
        # a changed element the parser repairs or rejects
        urlset(element("p0"), "  <url><loc>/relative</loc></url>\n"),
        urlset(element("p0"), "  <url><loc>ftp://example.com/x</loc></url>\n"),
        urlset(element("p0"), "  <url><loc>https://example.com/a&b</loc></url>\n"),
        # cut short
        urlset(element("p0"))[:-12],
        gzip.compress(urlset(element("p0")))[:-8],
        # not a urlset
        b'<?xml version="1.0"?><sitemapindex xmlns="x"><sitemap><loc>https://example.com/s</loc></sitemap></sitemapindex>',
    ],
)
def test_anything_uncertain_asks_for_a_full_read(new):
    assert diff(OLD, new) is None


def test_a_changed_element_for_a_url_an_unchanged_one_lists_is_named_for_the_caller():
    # The stored pages tell whether p1 was listed before: the caller checks `added`.
    found = diff(
        OLD, OLD.replace(b"</urlset>", element("p1", "2025-01-01").encode() + b"</urlset>")
    )
    assert found is not None and found.added == ["https://example.com/p1"]
    spelled = urlset(element("p0", "2024-01-01").replace("/p0", "/&#112;0"))
    found = diff(OLD, spelled)  # another spelling of p0: read again, and the same listing
    assert (
        found is not None
        and found.added == []
        and [e.url for e in found.changed] == ["https://example.com/p0"]
    )


def test_a_reading_beyond_the_cap_is_read_in_full_not_held_whole():
    new = OLD.replace(b"2024-01-01", b"2025-01-01")
    assert listing_diff(keepable(OLD), 6, new, url=URL, max_bytes=len(OLD)) is not None
    assert listing_diff(keepable(OLD), 6, new, url=URL, max_bytes=len(OLD) - 1) is None
    # A small gzip that inflates past the cap (a bomb) is refused while inflating.
    bomb = gzip.compress(OLD.replace(b"</urlset>", b" " * 10_000_000 + b"</urlset>"))
    assert len(bomb) < 100_000
    assert listing_diff(keepable(OLD), 6, bomb, url=URL, max_bytes=1_000_000) is None
    assert listing_diff(bomb, 6, OLD, url=URL, max_bytes=1_000_000) is None


def test_an_earlier_reading_that_does_not_match_its_count_asks_for_a_full_read():
    new = urlset(element("p0"))
    assert diff(OLD, new, count=5) is None  # the stored pages are not what the elements say
    assert listing_diff(b"not gzip, not a urlset", 6, new, url=URL) is None


# Readings made of a small pool of URLs, each with one of a few lastmods, images and blanks, so
# that two readings share most elements byte for byte.
_ELEMENT = st.builds(
    element,
    st.sampled_from([f"p{i}" for i in range(12)]),
    st.sampled_from([None, "2024-01-01", "2024-02-02T10:00:00Z"]),
    st.sampled_from([None, "a.png"]),
    st.sampled_from(["  ", "", "\n"]),
)
_READING = st.lists(_ELEMENT, max_size=12, unique_by=lambda e: e.split("</loc>")[0].strip())


@settings(max_examples=300, deadline=None)
@given(_READING, _READING, st.sampled_from([HEAD, HEAD.replace(' xmlns:image="', ' x:a="')]))
def test_a_diff_agrees_with_full_reads_of_both(old_elements, new_elements, head):
    old = urlset(*old_elements)
    new = urlset(*new_elements, head=head)
    found = diff(old, new)
    if head != HEAD or not old_elements or not new_elements:
        assert found is None  # another root start tag; an empty urlset is cheap to read in full
        return
    assert found is not None  # plain readings, each URL once: a diff always answers
    before, after = read(old), read(new)
    stored = {url: e for url, e in before.items() if url not in found.vanished}
    stored.update((e.url, e) for e in found.changed)
    assert stored == after
    assert found.count == len(after)
    assert set(found.vanished) == set(before) - set(after)
    assert set(found.added) == set(after) - set(before)  # what the caller checks is new indeed
