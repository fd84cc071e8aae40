"""Any bytes in, plain JSON-ready data out."""

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.parsing import big_homepage
from scrapersky.metadata import decode_html, extract_metadata, extract_page_summary

PAGES = Path(__file__).parent / "pages"
SAMPLE_PAGES = [path.read_bytes() for path in sorted(PAGES.glob("*.html"))]

FRAGMENTS = [
    b"<html lang='",
    b"<title>",
    b"</title>",
    b"<meta ",
    b"name='generator' ",
    b"content='WordPress 6.",
    b"property='og:image' ",
    b"<link rel='icon' sizes='",
    b"x",
    b"any",
    b"href='",
    b"'>",
    b"<a href='mailto:",
    b"tel:+44",
    b"020 7946 0958",
    b"info@acme.co.uk",
    b"@2x.png",
    b"<script type='application/ld+json'>",
    b"</script>",
    b'{"@type":"Organization","logo":',
    b'{"@id":',
    b'"sameAs":[',
    b"]",
    b"}",
    b"[",
    b"https://x.com/",
    b"https://www.tiktok.com/@",
    b"//",
    b"http://[",
    b"javascript:",
    b"data:",
    b"<base href='",
    b"<div itemscope itemtype='https://schema.org/Product'>",
    b"<span itemprop='name'>",
    b"data-cfemail='",
    b"ff",
    b"/cdn-cgi/l/email-protection#",
    b"<svg>",
    b"<!--",
    b"-->",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"&amp;",
    b"&#",
    b"<meta charset='",
    b"utf-16",
    b"latin-1",
    b"<body>",
    b"<noscript>",
    b"\n",
    b" ",
]
HEADER_NAMES = [
    "Content-Type",
    "content-type",
    "Content-Language",
    "Set-Cookie",
    "Server",
    "X-Powered-By",
    "Link",
]
URLS = [
    "https://acme.co.uk/",
    "http://acme.de",
    "https://xn--mller-kva.de/path?q=1",
    "",
    "not a url",
    "http://[::1",
]

fragment_pages = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(b"".join)
headers = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=60), max_size=4),
)


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    page = bytearray(draw(st.sampled_from(SAMPLE_PAGES)))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(page)))
        end = position + draw(st.integers(0, 40))
        page[position:end] = draw(st.one_of(st.binary(max_size=20), st.sampled_from(FRAGMENTS)))
    return bytes(page)


def check(body: bytes, url: str, response_headers: dict[str, str] | None) -> None:
    metadata = extract_metadata(body, url, response_headers)
    json.dumps(metadata, allow_nan=False)
    assert isinstance(metadata["email_addresses"], list) and len(metadata["email_addresses"]) <= 20
    assert isinstance(metadata["phone_numbers"], list) and len(metadata["phone_numbers"]) <= 10
    assert all(number.startswith("+") for number in metadata["phone_numbers"])
    assert isinstance(metadata["needs_render"], bool)
    summary = extract_page_summary(body, url, response_headers)
    assert summary == {key: metadata[key] for key in ("title", "description", "language")}


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(URLS), headers)
def test_random_bytes_never_raise(
    body: bytes, url: str, response_headers: dict[str, str] | None
) -> None:
    check(body, url, response_headers)


@FUZZ
@given(fragment_pages, st.sampled_from(URLS), headers)
def test_html_fragments_never_raise(
    body: bytes, url: str, response_headers: dict[str, str] | None
) -> None:
    check(body, url, response_headers)


@FUZZ
@given(mutated_pages(), st.sampled_from(URLS), headers)
def test_mutated_pages_never_raise(
    body: bytes, url: str, response_headers: dict[str, str] | None
) -> None:
    check(body, url, response_headers)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=500), st.one_of(st.none(), st.text(max_size=60)))
def test_decode_html_never_raises(body: bytes, content_type: str | None) -> None:
    assert isinstance(decode_html(body, content_type), str)


def test_huge_attribute_values() -> None:
    huge = "x" * 3_000_000
    body = (
        f'<html lang="{huge}" prefix="{huge}"><head prefix="og:{" " * 1_000_000}">'
        f'<title>Big</title><meta name="description" content="{huge}">'
        f'<link rel="icon" href="/{huge}"><meta property="og:image" content="{huge}"></head>'
        f'<body><a href="mailto:{huge}@acme.com">m</a><a href="tel:{"9" * 100_000}">t</a>'
        f'<img class="logo" src="{huge}.png"><p>Words here</p></body></html>'
    ).encode()
    metadata = extract_metadata(body, "https://acme.com/")
    assert metadata["title"] == "Big"
    assert len(metadata["description"]) <= 2000
    assert metadata["language"] is None
    assert metadata["favicon_url"] is None
    assert metadata["email_addresses"] == [] and metadata["phone_numbers"] == []


def test_a_100_kb_homepage_is_read_whole() -> None:
    """How fast is a bench figure (bench/parsing.py); here: the size costs nothing that was found."""
    url = "https://www.brightsmiledental.com/"
    page = big_homepage()
    assert len(page) > 100_000
    small, big = (
        extract_metadata((PAGES / "wordpress_elementor.html").read_bytes(), url),
        extract_metadata(page, url),
    )
    for name in (
        "title",
        "description",
        "logo_url",
        "is_wordpress",
        "has_elementor",
        "tech_stack",
        "email_addresses",
        "phone_numbers",
        "structured_data",
    ):
        assert big[name] == small[name], name
    assert big["element_counts"]["words"] > small["element_counts"]["words"]
