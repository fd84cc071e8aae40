"""Where a site's sitemaps are: robots.txt Sitemap lines, homepage links, and which well-known
paths are still worth guessing once those (and every index they lead to) are read.

A guess is worth a request only when nothing already read can answer it: `next_guesses` is that
decision, a pure function of what the scan knows; the spider only asks what it returns.
"""

from __future__ import annotations

from codecs import BOM_UTF8
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from lxml import etree

from scrapersky.sitemaps.entries import http_url

# Plain guessed paths, most often present on real sites first: the generators' defaults that a
# homepage may not reveal (Yoast and Rank Math, Astro and Gatsby, WordPress core, SEOPress),
# text sitemaps, then the rarer names ultimate-sitemap-parser guesses too. Not guessed: the
# children of a generator's index (Yoast's post-sitemap.xml, page-sitemap.xml, news-sitemap.xml
# come from sitemap_index.xml), names too rare to be worth a 404 on every site without them
# (sitemap1.xml, sitemapindex.xml, /sitemap/sitemap.xml, /sitemap/index.xml), /sitemap.php (it
# looks like a vulnerability scan to a WAF) and usp's /admin/config/search/xmlsitemap (Drupal's
# settings page, never a sitemap to an anonymous client).
COMMON_PATHS: tuple[str, ...] = (
    "/sitemap.xml",
    "/sitemap_index.xml",
    "/sitemap-index.xml",
    "/wp-sitemap.xml",
    "/sitemaps.xml",
    "/sitemap.txt",
    "/sitemap/sitemap-index.xml",
    "/sitemap-news.xml",
    "/sitemap_news.xml",
    "/.sitemap.xml",
    "/sitemap",
)

# Gzipped copies, asked only where the plain path answered no sitemap.
GZIPPED: Mapping[str, str] = {
    path: path + ".gz"
    for path in (
        "/sitemap.xml",
        "/sitemap_index.xml",
        "/sitemap-index.xml",
        "/sitemap-news.xml",
        "/sitemap_news.xml",
    )
}

# Every path a scan may guess (the order of the first asked).
WELL_KNOWN_PATHS: tuple[str, ...] = (*COMMON_PATHS, *GZIPPED.values())

# Where each generator publishes its sitemaps by default; the key is what `site_generators`
# returns. A generator's own index lists the rest (Yoast's post-sitemap.xml, page-sitemap.xml).
_SITEMAP_XML = ("/sitemap.xml",)
GENERATOR_PATHS: Mapping[str, tuple[str, ...]] = {
    "wordpress": ("/sitemap_index.xml", "/wp-sitemap.xml", "/sitemap.xml"),
    "yoast": ("/sitemap_index.xml",),
    "shopify": _SITEMAP_XML,
    "wix": _SITEMAP_XML,
    "squarespace": _SITEMAP_XML,
    "webflow": _SITEMAP_XML,
    "ghost": _SITEMAP_XML,
    "drupal": _SITEMAP_XML,
    "joomla": _SITEMAP_XML,
    "typo3": _SITEMAP_XML,
    "magento": _SITEMAP_XML,
    "weebly": _SITEMAP_XML,
    "jimdo": _SITEMAP_XML,
    "hubspot": _SITEMAP_XML,
    "framer": _SITEMAP_XML,
    "godaddy": _SITEMAP_XML,
    "blogger": _SITEMAP_XML,
    "hugo": _SITEMAP_XML,
    "jekyll": _SITEMAP_XML,
    "docusaurus": _SITEMAP_XML,
    "mkdocs": _SITEMAP_XML,
    "eleventy": _SITEMAP_XML,
    "pelican": _SITEMAP_XML,
    "vuepress": _SITEMAP_XML,
    "next.js": _SITEMAP_XML,
    "prestashop": ("/1_index_sitemap.xml", "/sitemap.xml"),
    "bigcommerce": ("/xmlsitemap.php", "/sitemap.xml"),
    "hexo": ("/sitemap.xml", "/sitemap.txt", "/baidusitemap.xml"),
    "astro": ("/sitemap-index.xml", "/sitemap.xml"),
    "gatsby": ("/sitemap-index.xml", "/sitemap/sitemap-index.xml", "/sitemap.xml"),
    "nuxt": ("/sitemap.xml", "/sitemap_index.xml"),
}

# Technology names (scrapersky.metadata's tech_stack) that name a generator above.
_STACK_GENERATORS = {
    "WordPress": "wordpress",
    "WooCommerce": "wordpress",
    "Yoast SEO": "yoast",
    "Shopify": "shopify",
    "Wix": "wix",
    "Squarespace": "squarespace",
    "Webflow": "webflow",
    "Ghost": "ghost",
    "Drupal": "drupal",
    "Joomla": "joomla",
    "TYPO3": "typo3",
    "Magento": "magento",
    "Weebly": "weebly",
    "Jimdo": "jimdo",
    "HubSpot CMS": "hubspot",
    "Framer": "framer",
    "GoDaddy Website Builder": "godaddy",
    "PrestaShop": "prestashop",
    "BigCommerce": "bigcommerce",
    "Next.js": "next.js",
    "Gatsby": "gatsby",
    "Astro": "astro",
    "Nuxt": "nuxt",
}

# Sites that read something already (robots.txt declared a sitemap, the homepage linked one, a
# guess found one) get this many guesses beside it at most: the most common paths they did not
# name, in case they publish more than they declare.
BESIDE_FOUND = 2
# A site that names no sitemap and shows no generator: the most common paths first, the rest
# only if those find nothing.
FIRST_ROUND = 3
# A news site (its homepage's structured data says so) is also asked these in the first round,
# whatever it declared: news sitemaps are often published beside the main one, undeclared.
NEWS_PATHS = ("/sitemap-news.xml", "/sitemap_news.xml")
# A scan guesses in at most this many rounds: the likely paths, the rest, their gzipped copies.
ROUNDS = 3

# Path endings of a machine-readable sitemap (not an HTML "site map" page).
_SITEMAP_SUFFIXES = (".xml", ".xml.gz", ".txt", ".txt.gz", ".gz")


class HomepageHints(NamedTuple):
    """What a homepage says about its sitemaps: the ones it links, and its generator."""

    sitemaps: list[str]
    generators: tuple[str, ...]  # `<meta name="generator">` values, as written


@dataclass(frozen=True)
class GuessState:
    """What a scan knows when it decides what to guess next."""

    base_url: str  # scheme://host the guesses go to
    found: bool  # a sitemap was read: declared, linked, listed by an index, or guessed
    generators: tuple[str, ...] = ()  # keys of GENERATOR_PATHS (see site_generators)
    news: bool = False  # the homepage says the site publishes news (see looks_like_news)
    remembered: tuple[str, ...] = ()  # URLs where earlier scans found a sitemap by guessing
    asked: frozenset[str] = frozenset()  # sitemap URLs already asked, declared or listed
    missing: frozenset[str] = frozenset()  # guessed URLs that answered no sitemap
    rounds: int = 0  # rounds of guesses already asked


def next_guesses(state: GuessState) -> tuple[int, list[str]]:
    """The next round of guesses: (rounds asked after it, URLs to ask); no URLs: stop guessing.

    Round 1 asks what earlier scans found by guessing (a sitemap not asked again would count as
    gone), then the generator's own paths when the homepage shows one, else the most common
    paths: at most BESIDE_FOUND of them when something was read already, FIRST_ROUND otherwise;
    a news site's NEWS_PATHS come on top.
    Only a site where nothing at all was read gets round 2, the remaining plain paths, and
    round 3, the gzipped copy of each plain path that answered nothing. A path already asked,
    declared or listed by an index read is never guessed.
    """
    asked = _paths_on(state.base_url, state.asked)
    for number in range(state.rounds + 1, ROUNDS + 1):
        paths = _round(state, number, asked)
        if paths:
            return number, [state.base_url + path for path in paths]
    return ROUNDS, []


def _round(state: GuessState, number: int, asked: set[str]) -> list[str]:
    def fresh(paths: Iterable[str]) -> list[str]:
        return [path for path in dict.fromkeys(paths) if path not in asked]

    if number == 1:
        if state.generators:
            likely = fresh(path for name in state.generators for path in GENERATOR_PATHS[name])
            likely = likely[:BESIDE_FOUND] if state.found else likely
        else:
            likely = fresh(COMMON_PATHS)[: BESIDE_FOUND if state.found else FIRST_ROUND]
        news = NEWS_PATHS if state.news else ()
        return fresh([*_paths_on(state.base_url, state.remembered), *likely, *news])
    if state.found:
        return []
    if number == 2:
        return fresh(COMMON_PATHS)
    missing = _paths_on(state.base_url, state.missing)
    return fresh(gzipped for plain, gzipped in GZIPPED.items() if plain in missing)


def site_generators(tech_stack: Mapping[str, Any] | None, meta: Iterable[str]) -> tuple[str, ...]:
    """Generators a homepage shows, as keys of GENERATOR_PATHS, in a stable order: from the
    technologies metadata extraction detected and from `<meta name="generator">` values."""
    found: dict[str, None] = {}
    for names in (tech_stack or {}).values():
        for name in names or ():
            if name in _STACK_GENERATORS:
                found.setdefault(_STACK_GENERATORS[name])
    for value in meta:
        text = value.lower()
        for key in GENERATOR_PATHS:
            if key in text:
                found.setdefault(key)
    return tuple(sorted(found, key=list(GENERATOR_PATHS).index))


def looks_like_news(structured_data: Mapping[str, Any] | None) -> bool:
    """Does a homepage's JSON-LD name a news type (NewsArticle, NewsMediaOrganization, ...)?"""
    return any(_news_type(item, 0) for item in (structured_data or {}).get("json-ld") or ())


def _news_type(node: Any, depth: int) -> bool:
    if depth > 4:
        return False
    if isinstance(node, list):
        return any(_news_type(item, depth + 1) for item in node)
    if not isinstance(node, dict):
        return False
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if any(isinstance(kind, str) and "News" in kind for kind in kinds):
        return True
    return _news_type(node.get("@graph"), depth + 1)


def _paths_on(base_url: str, urls: Iterable[str]) -> set[str]:
    """The paths (with query) of those URLs that point at base_url's site: any scheme, with or
    without `www.`."""
    host = _bare(urlsplit(base_url).hostname or "")
    paths = set()
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        if _bare(parts.hostname or "") == host:
            paths.add((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    return paths


def _bare(host: str) -> str:
    return host.removeprefix("www.")


def sitemaps_from_robots(body: bytes, robots_url: str) -> list[str]:
    """Absolute sitemap URLs from robots.txt "Sitemap:" lines, deduplicated in order.

    Accepts any case, blanks around the name and the colon, the "Site-map"
    spelling, relative URLs (resolved against robots_url) and trailing
    comments; skips lines that are not valid UTF-8.
    """
    if body.startswith(BOM_UTF8):
        body = body[len(BOM_UTF8) :]
    found: dict[str, None] = {}
    for raw in body.splitlines():
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        name, colon, value = line.partition(":")
        if not colon or _directive(name) != "sitemap":
            continue
        words = value.partition("#")[0].split()
        if not words:
            continue
        url = _resolve(robots_url, words[0].strip("<>\"'"))
        if url is not None:
            found.setdefault(url)
    return list(found)


def sitemaps_from_html(body: bytes, page_url: str) -> list[str]:
    """Absolute sitemap URLs linked from an HTML page, deduplicated in document order."""
    return homepage_hints(body, page_url).sitemaps


def homepage_hints(body: bytes, page_url: str) -> HomepageHints:
    """The sitemaps an HTML page links, deduplicated in document order, and its generator.

    Takes <link rel="sitemap" href> and any <a href> whose path contains
    "sitemap" and ends like a sitemap file (.xml, .xml.gz, .txt, ...).
    """
    root = _parse_html(body)
    if root is None:
        return HomepageHints([], ())
    generators = tuple(
        (element.get("content") or "").strip()
        for element in root.iter("meta")
        if (element.get("name") or "").strip().lower() == "generator"
    )
    base = page_url
    for element in root.iter("base"):
        href = (element.get("href") or "").strip()
        if href:
            base = urljoin(page_url, href)
        break
    found: dict[str, None] = {}
    for element in root.iter("link", "a"):
        href = (element.get("href") or "").strip()
        if not href:
            continue
        if element.tag == "link":
            if "sitemap" not in (element.get("rel") or "").lower().split():
                continue
        elif not _looks_like_sitemap(href):
            continue
        url = _resolve(base, href)
        if url is not None:
            found.setdefault(url)
    return HomepageHints(list(found), tuple(g for g in generators if g))


def _directive(name: str) -> str:
    return "".join(name.split()).lower().replace("-", "").replace("_", "")


def _resolve(base: str, href: str) -> str | None:
    try:
        return http_url(urljoin(base, href))
    except ValueError:
        return None


def _looks_like_sitemap(href: str) -> bool:
    try:
        path = urlsplit(href).path.lower()
    except ValueError:
        return False
    return "sitemap" in path and path.endswith(_SITEMAP_SUFFIXES)


def _parse_html(body: bytes) -> etree._Element | None:
    parser = etree.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, huge_tree=False
    )
    try:
        return etree.fromstring(body, parser)
    except (etree.LxmlError, ValueError):
        return None
