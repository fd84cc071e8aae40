"""Sitemap discovery: robots.txt lines, homepage links, and which well-known paths to guess when."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scrapersky.sitemaps import (
    WELL_KNOWN_PATHS,
    GuessState,
    homepage_hints,
    looks_like_news,
    next_guesses,
    site_generators,
    sitemaps_from_html,
    sitemaps_from_robots,
)

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
    assert len(set(WELL_KNOWN_PATHS)) == len(WELL_KNOWN_PATHS)
    assert WELL_KNOWN_PATHS[0] == "/sitemap.xml"
    for path in (
        "/sitemap_index.xml",
        "/sitemap-index.xml",
        "/sitemap.txt",
        "/wp-sitemap.xml",
        "/sitemaps.xml",
        "/sitemap.xml.gz",
        "/sitemap_index.xml.gz",
    ):
        assert path in WELL_KNOWN_PATHS
    assert all(path.startswith("/") and "sitemap" in path for path in WELL_KNOWN_PATHS)
    # Never guessed: an index's children, a path a WAF takes for a scan, a settings page.
    for path in ("/post-sitemap.xml", "/page-sitemap.xml", "/sitemap.php", "/feed/"):
        assert path not in WELL_KNOWN_PATHS
    assert not any(path.startswith("/admin") for path in WELL_KNOWN_PATHS)


# What ultimate-sitemap-parser 1.8.1 guesses on every site (usp.tree._UNPUBLISHED_SITEMAP_PATHS),
# save Drupal's settings page, which is no sitemap to an anonymous client.
USP_PATHS = {
    "/sitemap.xml",
    "/sitemap.xml.gz",
    "/sitemap_index.xml",
    "/sitemap-index.xml",
    "/sitemap_index.xml.gz",
    "/sitemap-index.xml.gz",
    "/.sitemap.xml",
    "/sitemap",
    "/sitemap/sitemap-index.xml",
    "/sitemap_news.xml",
    "/sitemap-news.xml",
    "/sitemap_news.xml.gz",
    "/sitemap-news.xml.gz",
}
BASE = "https://example.com"


def _urls(*paths: str) -> list[str]:
    return [BASE + path for path in paths]


def _every_round(state: GuessState, answer=lambda url: False) -> list[list[str]]:
    """The rounds next_guesses asks on a site where `answer(url)` says which guesses hold a
    sitemap; each round's answers feed the next state, as the spider does."""
    rounds = []
    while True:
        number, urls = next_guesses(state)
        if not urls:
            return rounds
        assert number > state.rounds
        rounds.append(urls)
        found = [url for url in urls if answer(url)]
        state = replace(
            state,
            rounds=number,
            found=state.found or bool(found),
            asked=state.asked | set(urls),
            missing=state.missing | (set(urls) - set(found)),
        )


def test_a_site_where_nothing_is_found_is_asked_everything_usp_asks_and_more() -> None:
    rounds = _every_round(GuessState(BASE, found=False))
    # The most common paths first, the remaining plain paths, then the .gz copies.
    assert rounds[0] == _urls("/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml")
    assert len(rounds) == 3
    assert all(url.endswith(".gz") for url in rounds[2])
    asked = [url.removeprefix(BASE) for r in rounds for url in r]
    assert len(asked) == len(set(asked))  # nothing asked twice
    assert set(asked) >= USP_PATHS
    assert set(asked) == set(WELL_KNOWN_PATHS)


def test_a_gz_copy_is_asked_only_where_the_plain_path_is_missing() -> None:
    # Nothing found anywhere, but /sitemap.xml answered (say, an HTML soft 404 is missing too):
    # only the copies of paths that answered nothing are asked.
    state = GuessState(
        BASE,
        found=False,
        rounds=2,
        asked=frozenset(_urls("/sitemap.xml", "/sitemap_index.xml")),
        missing=frozenset(_urls("/sitemap_index.xml")),
    )
    assert next_guesses(state) == (3, _urls("/sitemap_index.xml.gz"))
    assert next_guesses(replace(state, found=True)) == (3, [])


def test_once_the_first_round_finds_a_sitemap_nothing_more_is_guessed() -> None:
    def answer(url: str) -> bool:
        return url == BASE + "/sitemap.xml"

    rounds = _every_round(GuessState(BASE, found=False), answer)
    assert rounds == [_urls("/sitemap.xml", "/sitemap_index.xml", "/sitemap-index.xml")]


def test_a_site_that_declares_its_sitemaps_gets_two_common_undeclared_paths() -> None:
    declared = frozenset(_urls("/sitemap_index.xml", "/products.xml"))
    rounds = _every_round(GuessState(BASE, found=True, asked=declared))
    assert rounds == [_urls("/sitemap.xml", "/sitemap-index.xml")]


def test_paths_an_index_listed_or_robots_declared_are_never_guessed() -> None:
    # A Yoast index read on another scheme and with www.: its children are the same site's.
    listed = frozenset(
        [
            "http://www.example.com/sitemap_index.xml",
            "http://www.example.com/post-sitemap.xml",
            "http://www.example.com/page-sitemap.xml",
            "https://cdn.example.net/sitemap.xml",  # another host's path is no answer here
        ]
    )
    rounds = _every_round(GuessState(BASE, found=False, asked=listed))
    asked = {url.removeprefix(BASE) for r in rounds for url in r}
    assert not asked & {"/sitemap_index.xml", "/post-sitemap.xml", "/page-sitemap.xml"}
    assert "/sitemap.xml" in asked


@pytest.mark.parametrize(
    ("generators", "found", "first"),
    [
        (("hugo",), False, ["/sitemap.xml"]),
        (("shopify",), True, []),  # its one path is the declared one: nothing to guess
        (("wordpress", "yoast"), False, ["/sitemap_index.xml", "/wp-sitemap.xml", "/sitemap.xml"]),
        (("wordpress",), True, ["/sitemap_index.xml", "/wp-sitemap.xml"]),
        (("astro",), False, ["/sitemap-index.xml", "/sitemap.xml"]),
        (("hexo",), True, ["/sitemap.txt", "/baidusitemap.xml"]),
    ],
)
def test_a_generator_picks_its_own_paths(generators, found, first) -> None:
    # A site that found something found it at /sitemap.xml (declared in robots.txt, say).
    asked = frozenset(_urls("/sitemap.xml") if found else ())
    state = GuessState(BASE, found=found, generators=generators, asked=asked)
    assert next_guesses(state)[1] == _urls(*first)


def test_a_generator_whose_paths_find_nothing_falls_back_to_every_path() -> None:
    rounds = _every_round(GuessState(BASE, found=False, generators=("hugo",)))
    assert rounds[0] == _urls("/sitemap.xml")
    assert set(rounds[1]) == {BASE + p for p in WELL_KNOWN_PATHS if not p.endswith(".gz")} - {
        BASE + "/sitemap.xml"
    }


def test_what_earlier_scans_found_by_guessing_is_asked_first() -> None:
    # Its sitemap would otherwise count as gone; it comes on top of the usual budget.
    state = GuessState(
        BASE,
        found=True,
        remembered=("https://example.com/sitemap.php",),
        asked=frozenset(_urls("/sitemap.xml")),
    )
    assert next_guesses(state) == (
        1,
        _urls("/sitemap.php", "/sitemap_index.xml", "/sitemap-index.xml"),
    )


def test_a_news_site_is_asked_the_news_paths_beside_what_it_declared() -> None:
    declared = frozenset(_urls("/sitemap.xml"))
    state = GuessState(BASE, found=True, news=True, asked=declared)
    assert next_guesses(state)[1] == _urls(
        "/sitemap_index.xml", "/sitemap-index.xml", "/sitemap-news.xml", "/sitemap_news.xml"
    )
    assert next_guesses(replace(state, news=False))[1] == _urls(
        "/sitemap_index.xml", "/sitemap-index.xml"
    )


@pytest.mark.parametrize(
    ("json_ld", "news"),
    [
        ([{"@type": "NewsMediaOrganization", "name": "Daily"}], True),
        ([{"@graph": [{"@type": "WebSite"}, {"@type": ["Article", "NewsArticle"]}]}], True),
        ([{"@type": "Organization"}, {"@type": "WebSite"}], False),
        ([{"@type": 7}, "text", None], False),
        ([], False),
    ],
)
def test_looks_like_news(json_ld, news) -> None:
    assert looks_like_news({"json-ld": json_ld}) is news
    assert looks_like_news(None) is False


def test_generators_from_the_tech_stack_and_the_generator_meta() -> None:
    stack = {"cms": ["WordPress"], "plugins": ["Yoast SEO", "Elementor"], "analytics": ["Hotjar"]}
    assert site_generators(stack, []) == ("wordpress", "yoast")
    assert site_generators({}, ["Hugo 0.121.1"]) == ("hugo",)
    assert site_generators(None, ["Astro v4.0.3", "Docusaurus v3"]) == ("docusaurus", "astro")
    assert site_generators({"frameworks": ["React"]}, ["Microsoft Word 15"]) == ()
    hints = homepage_hints(
        b'<html><head><meta name="Generator" content=" Jekyll v4.3.2 ">'
        b'<link rel="sitemap" href="/s.xml"></head></html>',
        "https://example.com/",
    )
    assert hints == (["https://example.com/s.xml"], ("Jekyll v4.3.2",))


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
