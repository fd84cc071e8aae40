"""Where a site's sitemaps are: robots.txt Sitemap lines, well-known paths, homepage links."""

from __future__ import annotations

from codecs import BOM_UTF8
from urllib.parse import urljoin, urlsplit

from lxml import etree

from scrapersky.sitemaps.entries import http_url

# Guessed paths, tried in this order beside any sitemaps robots.txt names.
WELL_KNOWN_PATHS: tuple[str, ...] = (
    "/sitemap.xml",
    "/sitemap_index.xml",
    "/sitemap-index.xml",
    "/sitemapindex.xml",
    "/sitemaps.xml",
    "/wp-sitemap.xml",
    "/sitemap.xml.gz",
    "/sitemap_index.xml.gz",
    "/sitemap.txt",
    "/sitemap.php",
    "/sitemap/sitemap.xml",
    "/sitemap/index.xml",
    "/sitemap/sitemap-index.xml",
    "/sitemap1.xml",
    "/post-sitemap.xml",
    "/page-sitemap.xml",
    "/news-sitemap.xml",
    "/sitemap-news.xml",
    "/sitemap_news.xml",
)

# Path endings of a machine-readable sitemap (not an HTML "site map" page).
_SITEMAP_SUFFIXES = (".xml", ".xml.gz", ".txt", ".txt.gz", ".gz")


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
    """Absolute sitemap URLs linked from an HTML page, deduplicated in document order.

    Takes <link rel="sitemap" href> and any <a href> whose path contains
    "sitemap" and ends like a sitemap file (.xml, .xml.gz, .txt, ...).
    """
    root = _parse_html(body)
    if root is None:
        return []
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
    return list(found)


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
