"""Charset decoding, the text fields and their fallbacks, visible text."""

import codecs

import pytest

from scrapersky.metadata import decode_html, extract_page_summary
from scrapersky.metadata.document import parse_html, visible_text
from scrapersky.metadata.text import clean_text, normalize_language

LATIN1_WITH_META = (
    '<html><head><meta charset="iso-8859-1"><title>Café Müller</title></head></html>'.encode(
        "latin-1"
    )
)
LATIN1_BARE = "<html><head><title>Café Müller</title></head></html>".encode("latin-1")


def test_decode_latin1_declared_by_meta_charset() -> None:
    assert "Café Müller" in decode_html(LATIN1_WITH_META)


def test_decode_latin1_declared_by_http_equiv() -> None:
    body = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
        "<title>Café Müller</title></head></html>"
    ).encode("latin-1")
    assert "Café Müller" in decode_html(body)


def test_decode_latin1_declared_by_header_only() -> None:
    assert "Café Müller" in decode_html(LATIN1_BARE, "text/html; charset=iso-8859-1")


def test_header_charset_beats_meta() -> None:
    body = '<meta charset="iso-8859-1"><p>Café</p>'.encode()
    assert "Café" in decode_html(body, "text/html; charset=utf-8")


def test_bom_beats_header() -> None:
    # As in browsers (and w3lib): a byte-order mark overrides any declaration.
    body = codecs.BOM_UTF8 + "<p>Café</p>".encode()
    assert decode_html(body, "text/html; charset=iso-8859-1") == "<p>Café</p>"


def test_utf16_with_bom() -> None:
    assert "Café" in decode_html("<p>Café</p>".encode("utf-16"))


def test_undeclared_invalid_bytes_replaced() -> None:
    assert decode_html(LATIN1_BARE).count("\ufffd") == 2


def test_unknown_charset_falls_back_to_utf8() -> None:
    assert "Café" in decode_html("<p>Café</p>".encode(), "text/html; charset=x-no-such-thing")


def summary(body: str, headers: dict[str, str] | None = None) -> dict[str, str | None]:
    return extract_page_summary(body.encode(), "https://acme.com/", headers)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("<title>  Acme \n\t Bakery  </title>", "Acme Bakery"),
        ("<title>Fish &amp;amp; Chips</title>", "Fish & Chips"),
        ("<title>Caf&eacute; &#8211; Home</title>", "Café \u2013 Home"),
        ('<title></title><meta property="og:title" content="From OG">', "From OG"),
        (
            '<meta property="og:title" content="From OG"><meta name="twitter:title" content="From Twitter">',
            "From OG",
        ),
        ('<meta name="twitter:title" content="From Twitter">', "From Twitter"),
        ('<meta content="Attribute order" property="OG:Title">', "Attribute order"),
    ],
)
def test_title(head: str, expected: str) -> None:
    assert summary(f"<html><head>{head}</head></html>")["title"] == expected


def test_svg_title_is_not_the_page_title() -> None:
    body = '<html><head><meta property="og:title" content="Real"></head><body><svg><title>Icon</title></svg></body></html>'
    assert summary(body)["title"] == "Real"


def test_title_is_capped() -> None:
    # The first 500 characters are kept (then stripped): a dropped title would fail too.
    assert summary(f"<title>{'word ' * 1000}</title>")["title"] == ("word " * 100).strip()


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta name="description" content="Plain">', "Plain"),
        ('<meta content="Reversed" name="Description">', "Reversed"),
        (
            '<meta name="description" content="  "><meta property="og:description" content="From OG">',
            "From OG",
        ),
        ('<meta name="twitter:description" content="From Twitter">', "From Twitter"),
        (
            '<meta property="og:description" content="OG"><meta name="twitter:description" content="TW">',
            "OG",
        ),
        ("", None),
    ],
)
def test_description(head: str, expected: str | None) -> None:
    assert summary(f"<html><head>{head}</head></html>")["description"] == expected


@pytest.mark.parametrize(
    ("html", "headers", "expected"),
    [
        ('<html lang="en-gb">', None, "en-GB"),
        ('<html lang="EN_us">', None, "en-US"),
        ('<html xml:lang="de">', None, "de"),
        ('<html><meta http-equiv="Content-Language" content="fr-CA">', None, "fr-CA"),
        ('<html lang="">', {"Content-Language": "pt-BR"}, "pt-BR"),
        ("<html>", {"content-language": "de-DE, en;q=0.5"}, "de-DE"),
        ('<html lang="not a language!">', None, None),
        ("<html>", None, None),
    ],
)
def test_language(html: str, headers: dict[str, str] | None, expected: str | None) -> None:
    assert summary(html, headers)["language"] == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419"), ("x" * 40, None), ("", None), ("e", None)],
)
def test_normalize_language(tag: str, expected: str | None) -> None:
    assert normalize_language(tag) == expected


def test_clean_text_empty() -> None:
    assert clean_text("   \n ") is None
    assert clean_text(None) is None


def test_visible_text_skips_hidden_parts() -> None:
    root = parse_html(
        "<html><head><title>T</title></head><body><p>One <b>two</b></p><script>var x = 1;</script>"
        "<style>p{}</style><noscript>Enable JS</noscript><template><p>Later</p></template>"
        "<div hidden>Secret</div><!-- comment -->three<div>four</div></body></html>"
    )
    lines = [line.strip() for line in visible_text(root).splitlines() if line.strip()]
    assert lines == ["One two", "three", "four"]


def test_visible_text_survives_deep_nesting() -> None:
    # Deeper than Python's recursion limit, within the parser's own depth limit.
    root = parse_html("<div>" * 1500 + "deep" + "</div>" * 1500)
    assert visible_text(root).split() == ["deep"]
