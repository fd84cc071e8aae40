"""Sitemap discovery: robots.txt lines, well-known paths, homepage links."""

from __future__ import annotations

import pytest

from scrapersky.sitemaps import WELL_KNOWN_PATHS, sitemaps_from_html, sitemaps_from_robots

ROBOTS_URL = "https://example.com/robots.txt"


@pytest.mark.parametrize(
    "line",
    [
        "Sitemap: https://example.com/sitemap.xml",
        "sitemap: https://example.com/sitemap.xml",
        "SITEMAP:https://example.com/sitemap.xml",
        "  Sitemap :   https://example.com/sitemap.xml   ",
        "\tsitemap\t:\thttps://example.com/sitemap.xml",
        "Site-map: https://example.com/sitemap.xml",
        "site-map:https://example.com/sitemap.xml",
        "Sitemap: /sitemap.xml",
        "Sitemap: sitemap.xml",
        "Sitemap: https://example.com/sitemap.xml # the main one",
        "Sitemap: <https://example.com/sitemap.xml>",
    ],
)
def test_robots_sitemap_line_variants(line: str) -> None:
    body = f"User-agent: *\nDisallow: /admin\n{line}\n".encode()
    assert sitemaps_from_robots(body, ROBOTS_URL) == ["https://example.com/sitemap.xml"]


def test_robots_relative_path_resolves_against_robots_url() -> None:
    body = b"Sitemap: /maps/index.xml\nSitemap: ../other.xml\n"
    assert sitemaps_from_robots(body, "http://shop.example.com/robots.txt") == [
        "http://shop.example.com/maps/index.xml",
        "http://shop.example.com/other.xml",
    ]


def test_robots_bom_crlf_and_invalid_utf8_line() -> None:
    body = (
        b"\xef\xbb\xbfSitemap: https://example.com/a.xml\r\n"
        b"Sitemap: https://example.com/\xff\xfe-bad.xml\r\n"
        b"Sitemap: https://example.com/b.xml\r\n"
    )
    assert sitemaps_from_robots(body, ROBOTS_URL) == [
        "https://example.com/a.xml",
        "https://example.com/b.xml",
    ]


def test_robots_several_sitemaps_deduplicated_in_order() -> None:
    body = (
        b"Sitemap: https://example.com/b.xml\n"
        b"User-agent: *\n"
        b"Sitemap: https://example.com/a.xml\n"
        b"sitemap: https://example.com/b.xml\n"
        b"Sitemap: /a.xml\n"
        b"Sitemap: https://cdn.example.net/c.xml.gz\n"
    )
    assert sitemaps_from_robots(body, ROBOTS_URL) == [
        "https://example.com/b.xml",
        "https://example.com/a.xml",
        "https://cdn.example.net/c.xml.gz",
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"User-agent: *\nDisallow: /\n",
        b"# Sitemap: https://example.com/commented.xml\n",
        b"Sitemap:\nSitemap:   \n",
        b"Sitemaps are listed below\n",
        b"Sitemap: ftp://example.com/sitemap.xml\nSitemap: javascript:alert(1)\n",
        b"Crawl-delay: 10\nHost: example.com\n",
    ],
)
def test_robots_without_sitemaps(body: bytes) -> None:
    assert sitemaps_from_robots(body, ROBOTS_URL) == []


def test_well_known_paths_are_sitemap_paths() -> None:
    assert 15 <= len(WELL_KNOWN_PATHS) <= 20
    assert len(set(WELL_KNOWN_PATHS)) == len(WELL_KNOWN_PATHS)
    assert WELL_KNOWN_PATHS[0] == "/sitemap.xml"
    for path in (
        "/sitemap_index.xml",
        "/sitemap-index.xml",
        "/sitemap.php",
        "/sitemap.txt",
        "/sitemap/sitemap.xml",
        "/wp-sitemap.xml",
        "/sitemap/index.xml",
        "/post-sitemap.xml",
        "/page-sitemap.xml",
        "/sitemapindex.xml",
        "/sitemap.xml.gz",
        "/sitemap_index.xml.gz",
        "/sitemaps.xml",
        "/news-sitemap.xml",
    ):
        assert path in WELL_KNOWN_PATHS
    assert all(path.startswith("/") and "sitemap" in path for path in WELL_KNOWN_PATHS)
    assert "/feed/" not in WELL_KNOWN_PATHS


HOMEPAGE = b"""<!DOCTYPE html>
<html><head>
  <title>Shop</title>
  <link rel="stylesheet" href="/style.css">
  <link rel="sitemap" type="application/xml" title="Sitemap" href="/sitemap.xml">
  <link rel="alternate sitemap" href="https://example.com/news-sitemap.xml">
</head><body>
  <a href="/about">About</a>
  <a href="/sitemap">Site map (an HTML page)</a>
  <a href="/sitemap.html">Human site map</a>
  <a href="/products-sitemap.xml">Products</a>
  <a href="https://example.com/maps/sitemap_2.xml.gz">Archive</a>
  <a href="sitemap.txt">Text list</a>
  <a href="/SiteMap-Posts.XML?page=2">Posts</a>
  <a href="/data.xml">Data feed</a>
  <a href="/sitemap.xml">Duplicate of the link tag</a>
  <a href="mailto:sitemap@example.com">Mail</a>
  <a>no href</a>
</body></html>"""


def test_html_link_rel_sitemap_and_sitemap_anchors() -> None:
    assert sitemaps_from_html(HOMEPAGE, "https://example.com/") == [
        "https://example.com/sitemap.xml",
        "https://example.com/news-sitemap.xml",
        "https://example.com/products-sitemap.xml",
        "https://example.com/maps/sitemap_2.xml.gz",
        "https://example.com/sitemap.txt",
        "https://example.com/SiteMap-Posts.XML?page=2",
    ]


def test_html_relative_links_use_page_url_and_base_tag() -> None:
    page = b'<html><head><base href="https://cdn.example.com/site/"></head><body><a href="sitemap.xml">x</a></body></html>'
    assert sitemaps_from_html(page, "https://example.com/home") == [
        "https://cdn.example.com/site/sitemap.xml"
    ]
    page = b'<html><body><a href="sitemap.xml">x</a></body></html>'
    assert sitemaps_from_html(page, "https://example.com/blog/") == [
        "https://example.com/blog/sitemap.xml"
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"\x00\xff\xfe",
        b"<html><body><a href='/about'>About</a></body></html>",
        b"not html at all",
    ],
)
def test_html_without_sitemap_links(body: bytes) -> None:
    assert sitemaps_from_html(body, "https://example.com/") == []
