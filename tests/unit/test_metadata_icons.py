"""Favicon and logo selection, and URL resolution."""

import pytest

from scrapersky.metadata import extract_metadata
from scrapersky.metadata.urls import link_url


def icons(
    head: str, body: str = "", url: str = "https://acme.com/shop/"
) -> tuple[str | None, bool, str | None]:
    metadata = extract_metadata(
        f"<html><head>{head}</head><body>{body}</body></html>".encode(), url
    )
    return metadata["favicon_url"], metadata["favicon_probe"], metadata["logo_url"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<link rel="icon" href="/a.png">', "https://acme.com/a.png"),
        ('<link rel="shortcut icon" href="favicon.ico">', "https://acme.com/shop/favicon.ico"),
        ('<link href="/b.png" rel="ICON">', "https://acme.com/b.png"),
        (
            '<link rel="icon" href="/first.png"><link rel="icon" href="/second.png">',
            "https://acme.com/first.png",
        ),
        (
            '<link rel="icon" href="/16.png" sizes="16x16"><link rel="icon" href="/multi.ico" sizes="16x16 48x48">'
            '<link rel="icon" href="/32.png" sizes="32x32">',
            "https://acme.com/multi.ico",
        ),
        (
            '<link rel="icon" href="/small.png" sizes="16x16"><link rel="apple-touch-icon" href="/t.png" sizes="180x180">',
            "https://acme.com/t.png",
        ),
        (
            '<link rel="icon" href="/nosize.png"><link rel="icon" href="/sized.png" sizes="32x32">',
            "https://acme.com/sized.png",
        ),
        ('<link rel="icon" href="//cdn.acme.com/i.png">', "https://cdn.acme.com/i.png"),
        (
            '<base href="https://static.acme.com/assets/"><link rel="icon" href="i.png">',
            "https://static.acme.com/assets/i.png",
        ),
        (
            '<link rel="icon" href="data:image/png;base64,iVBORw0KGgo="><link rel="icon" href="/real.png">',
            "https://acme.com/real.png",
        ),
    ],
)
def test_favicon(head: str, expected: str) -> None:
    favicon_url, probe, _ = icons(head)
    assert favicon_url == expected
    assert probe is False


@pytest.mark.parametrize(
    "head",
    [
        "",
        '<link rel="stylesheet" href="/s.css">',
        '<link rel="icon" href="data:image/png;base64,AAAA">',
        '<link rel="icon">',
    ],
)
def test_favicon_probe_when_no_icon_link(head: str) -> None:
    assert icons(head)[:2] == (None, True)


def test_logo_custom_logo_class_beats_other_logos() -> None:
    body = (
        '<img src="/partner-logo.png" alt="Partner logo"><img class="custom-logo" src="/mine.png">'
    )
    assert icons("", body)[2] == "https://acme.com/mine.png"


@pytest.mark.parametrize(
    "img",
    [
        '<img src="/l.png" class="navbar-logo">',
        '<img src="/l.png" id="siteLogo">',
        '<img src="/l.png" alt="Acme Logo">',
        '<div class="header-logo"><a href="/"><img src="/l.png"></a></div>',
        '<img class="logo lazyload" src="data:image/gif;base64,R0lGOD" data-src="/l.png">',
        '<img class="logo" srcset="/l.png 1x, /l@2x.png 2x">',
    ],
)
def test_logo_from_markup(img: str) -> None:
    assert icons("", f"<img src='/hero.jpg'>{img}")[2] == "https://acme.com/l.png"


def test_logo_falls_back_to_og_image_on_the_front_page() -> None:
    head = '<meta property="og:image" content="/og.jpg">'
    assert (
        icons(head, '<img src="/hero.jpg" alt="Our bakery">', url="https://acme.com/")[2]
        == "https://acme.com/og.jpg"
    )
    assert (
        icons(head, '<img src="/hero.jpg" alt="Our bakery">', url="https://acme.com/shop/")[2]
        is None
    )


@pytest.mark.parametrize(
    "json_ld",
    [
        '{"@type": "Organization", "logo": "https://acme.com/jsonld.png"}',
        '{"@type": "Organization", "logo": {"@type": "ImageObject", "url": "/jsonld.png"}}',
        '{"@type": "LocalBusiness", "logo": [{"contentUrl": "https://acme.com/jsonld.png"}]}',
        '[{"@type": "WebSite", "publisher": {"@type": "Organization", "logo": "/jsonld.png"}}]',
        '{"@graph": [{"@type": "Brand", "logo": {"@id": "#logo"}}, {"@id": "#logo", "url": "/jsonld.png"}]}',
    ],
)
def test_logo_from_json_ld_beats_markup(json_ld: str) -> None:
    head = f'<script type="application/ld+json">{json_ld}</script><meta property="og:image" content="/og.jpg">'
    assert (
        icons(head, '<img class="logo" src="/markup.png">', url="https://acme.com/")[2]
        == "https://acme.com/jsonld.png"
    )


def test_logo_organization_node_preferred() -> None:
    head = (
        '<script type="application/ld+json">{"@graph": [{"@type": "WebPage", "logo": "/page.png"},'
        '{"@type": "Organization", "logo": "/org.png"}]}</script>'
    )
    assert icons(head)[2] == "https://acme.com/org.png"


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("/a b.png", "https://acme.com/x/", "https://acme.com/a%20b.png"),
        ("../up.png", "https://acme.com/x/y/", "https://acme.com/x/up.png"),
        ("  https://cdn.acme.com/i.png  ", "https://acme.com/", "https://cdn.acme.com/i.png"),
        ("javascript:alert(1)", "https://acme.com/", None),
        ("mailto:a@acme.com", "https://acme.com/", None),
        ("data:image/png;base64,AAAA", "https://acme.com/", None),
        ("https://[::1", "https://acme.com/", None),
        ("", "https://acme.com/", None),
        ("/" + "a" * 5000, "https://acme.com/", None),
    ],
)
def test_link_url(href: str, base: str, expected: str | None) -> None:
    assert link_url(href, base) == expected


def test_non_http_base_href_is_ignored() -> None:
    favicon_url, _, _ = icons('<base href="javascript:void(0)"><link rel="icon" href="/i.png">')
    assert favicon_url == "https://acme.com/i.png"
