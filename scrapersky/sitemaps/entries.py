"""Entries of a sitemap, and how each kind of XML element becomes one.

Every builder takes a finished lxml element (and the sitemap's own URL, for
feeds that use relative links) and returns an entry, or None when the element
lists no usable http(s) URL. These run once per listed URL, so they favour
cheap checks over generality.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict
from urllib.parse import urljoin, urlsplit

from lxml import etree

from scrapersky.sitemaps.dates import parse_lastmod


class Alternate(TypedDict):
    """An hreflang alternate of a listed URL."""

    hreflang: str
    href: str


@dataclass(slots=True)
class PageEntry:
    """One URL listed by a sitemap."""

    url: str
    lastmod: datetime | None = None
    changefreq: str | None = None
    priority: float | None = None
    alternates: list[Alternate] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)  # see _image
    news: dict[str, str | None] | None = None  # see _news
    videos: list[dict[str, str]] | None = (
        None  # see _video; None, not [], when there are none: one list fewer per URL
    )


@dataclass(slots=True)
class SitemapRef:
    """One child sitemap listed by a sitemap index."""

    url: str
    lastmod: datetime | None = None


Builder = Callable[[etree._Element, str], "PageEntry | SitemapRef | None"]

CHANGEFREQS = frozenset(("always", "hourly", "daily", "weekly", "monthly", "yearly", "never"))

# Namespaces vary (current, old Google 0.84/0.9, none at all, undeclared
# prefixes), so elements are matched by local name. Clark-notation tags map to
# interned local names; the table stops growing at a fixed size so a hostile
# document cannot inflate it.
_LOCAL_NAMES: dict[object, str] = {}
_LOCAL_NAMES_MAX = 2048


def local_name(tag: object) -> str:
    """Local part of an lxml tag: "{ns}loc", "image:loc" and "loc" all give "loc"; comments give ""."""
    name = _LOCAL_NAMES.get(tag)
    if name is not None:
        return name
    name = ""
    if isinstance(tag, str):
        name = sys.intern(tag.rpartition("}")[2].rpartition(":")[2])
    if len(_LOCAL_NAMES) < _LOCAL_NAMES_MAX:
        _LOCAL_NAMES[tag] = name
    return name


def http_url(text: str | None) -> str | None:
    """The stripped value when it is an absolute http(s) URL with a host, else None."""
    if not text:
        return None
    url = text.strip()
    if url.startswith("https://"):
        host_at = 8
    elif url.startswith("http://"):
        host_at = 7
    else:
        lowered = url[:8].lower()
        if lowered.startswith("https://"):
            host_at = 8
        elif lowered.startswith("http://"):
            host_at = 7
        else:
            return None
    if len(url) <= host_at or url[host_at] in "/?#":
        return None
    return url


def absolute_url(text: str | None, base: str) -> str | None:
    """Like http_url, resolving a relative reference against base when base is given."""
    url = http_url(text)
    if url is not None or not text or not base:
        return url
    try:
        return http_url(urljoin(base, text.strip()))
    except ValueError:
        return None


def feed_url(text: str | None, base: str) -> str | None:
    """An RSS or Atom entry's link, resolved like absolute_url; a value holding markup (a broken
    document runs an attribute on into the elements after it) is no link."""
    url = absolute_url(text, base)
    if url is None or _MARKUP.search(url):
        return None
    return url


def on_site_url(text: str | None, base: str) -> str | None:
    """A relative <loc> resolved against the sitemap's URL, when the result stays on the
    sitemap's host (www. or not); None otherwise. The protocol wants absolute URLs, but real
    generators write "/page", "page.html", "//host/page" and "host/page"."""
    if not text or not base:
        return None
    text = text.strip()
    if _SCHEME.match(text):
        return None  # absolute already, and not a usable http(s) URL
    if _NOT_IN_REFERENCES.search(text):
        return None  # prose or broken markup, not a reference: it would resolve to a junk URL
    try:
        host = _bare_host(urlsplit(base).hostname)
        first, slash, _ = text.partition("/")
        if slash and "." in first and ":" not in first:
            if _bare_host(first) != host:
                return None  # "other-host/page": another site's URL that lost its scheme
            text = "//" + text
        url = http_url(urljoin(base, text))
        if url is None or _bare_host(urlsplit(url).hostname) != host:
            return None
    except ValueError:
        return None
    return url


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_MARKUP = re.compile(r'[<>"\t\n\r]')
# Characters RFC 3986 leaves out of every URI reference. An absolute <loc> keeps them (real
# sites list URLs with raw spaces, and peers keep those); a relative one with any is no URL.
_NOT_IN_REFERENCES = re.compile(r'[\s"<>\\^`{|}]')


def _bare_host(host: str | None) -> str:
    host = (host or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


class Deviations(dict[str, int]):
    """How often a sitemap departed from the protocol in ways the reader repaired, by kind."""

    def note(self, kind: str) -> None:
        self[kind] = self.get(kind, 0) + 1


RELATIVE_LOC = "relative <loc> resolved against the sitemap URL"
SITEMAP_IN_URLSET = "<sitemap> inside a urlset followed as a child sitemap"


def parse_changefreq(text: str) -> str | None:
    if text in CHANGEFREQS:
        return text
    text = text.strip().lower()
    return text if text in CHANGEFREQS else None


# Priorities take a handful of distinct values; remember them (bounded, like local names).
_PRIORITIES: dict[str, float | None] = {}
_PRIORITIES_MAX = 1024


def parse_priority(text: str) -> float | None:
    try:
        return _PRIORITIES[text]
    except KeyError:
        pass
    try:
        number = float(text)
    except ValueError:
        value = None
    else:
        value = number if 0.0 <= number <= 1.0 else None
    if len(_PRIORITIES) < _PRIORITIES_MAX:
        _PRIORITIES[text] = value
    return value


def url_builder(namespace: str, deviations: Deviations) -> Builder:
    """The builder for urlset <url> elements whose children use namespace ("{uri}" or "").
    Repairs (relative <loc>) are counted in deviations.

    Children in the urlset's own namespace are matched by comparing whole tags,
    the cheapest test lxml allows; anything else (extensions, stray namespaces)
    goes through the slower local-name path.
    """
    loc_tag = namespace + "loc"
    lastmod_tag = namespace + "lastmod"
    changefreq_tag = namespace + "changefreq"
    priority_tag = namespace + "priority"

    def page_from_url(elem: etree._Element, base: str) -> PageEntry | None:
        loc = lastmod = changefreq = priority = None
        others: list[etree._Element] | None = None
        for child in elem:
            tag = child.tag
            if tag == loc_tag:
                loc = child.text
            elif tag == lastmod_tag:
                lastmod = child.text
            elif tag == changefreq_tag:
                changefreq = child.text
            elif tag == priority_tag:
                priority = child.text
            elif others is None:
                others = [child]
            else:
                others.append(child)
        if others is not None:
            texts = _standard_texts(others)
            loc = loc if loc is not None else texts.get("loc")
            lastmod = lastmod if lastmod is not None else texts.get("lastmod")
            changefreq = changefreq if changefreq is not None else texts.get("changefreq")
            priority = priority if priority is not None else texts.get("priority")
        if loc is None:
            return None
        url = loc.strip()
        # Fast path for the usual https URL; http_url decides everything else.
        if not url.startswith("https://") or len(url) < 9 or url[8] in "/?#":
            repaired = http_url(url) or _repaired(url, base, deviations)
            if repaired is None:
                return None
            url = repaired
        entry = PageEntry(
            url,
            parse_lastmod(lastmod) if lastmod else None,
            parse_changefreq(changefreq) if changefreq else None,
            parse_priority(priority) if priority else None,
            [],
            [],
        )
        if others is not None:
            _add_extensions(entry, others)
        return entry

    return page_from_url


_STANDARD_NAMES = frozenset(("loc", "lastmod", "changefreq", "priority"))


def _standard_texts(children: list[etree._Element]) -> dict[str, str | None]:
    """loc/lastmod/changefreq/priority found outside the urlset's namespace, first one wins."""
    texts: dict[str, str | None] = {}
    for child in children:
        name = local_name(child.tag)
        if name in _STANDARD_NAMES and name not in texts:
            texts[name] = child.text
    return texts


def _add_extensions(entry: PageEntry, children: list[etree._Element]) -> None:
    """hreflang alternates, images, news and videos of one <url>."""
    for child in children:
        name = local_name(child.tag)
        if name == "link":
            alternate = _alternate(child)
            if alternate is not None:
                entry.alternates.append(alternate)
        elif name == "image":
            image = _image(child)
            if image is not None:
                entry.images.append(image)
        elif name == "news":
            entry.news = _news(child)
        elif name == "video":
            video = _video(child)
            if video is not None:
                entry.videos = [*(entry.videos or ()), video]


def mixed_builder(page_from_url: Builder, deviations: Deviations) -> Builder:
    """page_from_url, and a SitemapRef for a <sitemap> element misplaced in a urlset (counted in
    deviations). Reading every element's tag costs a few percent, so the reader switches to this
    only once the document shows a sitemap end tag."""
    misplaced_ref = ref_builder(deviations)

    def entry_of(elem: etree._Element, base: str) -> PageEntry | SitemapRef | None:
        if local_name(elem.tag) == "sitemap":
            deviations.note(SITEMAP_IN_URLSET)
            return misplaced_ref(elem, base)
        return page_from_url(elem, base)

    return entry_of


def _repaired(loc: str, base: str, deviations: Deviations) -> str | None:
    url = on_site_url(loc, base)
    if url is not None:
        deviations.note(RELATIVE_LOC)
    return url


def ref_builder(deviations: Deviations) -> Builder:
    """The builder for sitemapindex <sitemap> elements; repairs are counted in deviations."""

    def ref_from_sitemap(elem: etree._Element, base: str) -> SitemapRef | None:
        loc = lastmod = None
        for child in elem:
            name = _LOCAL_NAMES.get(child.tag) or local_name(child.tag)
            if name == "loc":
                loc = child.text
            elif name == "lastmod":
                lastmod = child.text
        url = http_url(loc) or (_repaired(loc, base, deviations) if loc else None)
        if url is None:
            return None
        return SitemapRef(url, parse_lastmod(lastmod))

    return ref_from_sitemap


def page_from_rss_item(elem: etree._Element, base: str) -> PageEntry | None:
    """An RSS 2.0 (or 1.0) <item>: <link>, else a permalink <guid>; pubDate or dc:date."""
    link = guid = published = None
    for child in elem:
        name = local_name(child.tag)
        if name == "link":
            link = link or child.text or child.get("href")
        elif name == "guid":
            if (child.get("isPermaLink") or "true").strip().lower() != "false":
                guid = child.text
        elif name in ("pubDate", "date"):
            published = published or child.text
    url = feed_url(link, base) or feed_url(guid, base)
    if url is None:
        return None
    return PageEntry(url, parse_lastmod(published))


_ATOM_DATES = ("updated", "modified", "issued", "published")
# RFC 4287 4.2.7.2: a link without rel is rel="alternate", and a registered name equals the IANA
# IRI it abbreviates. Only an alternate is the entry's page: self is the entry's own Atom
# document (an API or feed address), and edit, enclosure, related, via, replies are other things.
_ALTERNATE_RELS = frozenset(("alternate", "http://www.iana.org/assignments/relation/alternate"))


def page_from_atom_entry(elem: etree._Element, base: str) -> PageEntry | None:
    """An Atom 1.0 or 0.3 <entry>: its first alternate (or rel-less) link, and the first date
    found; None for an entry with no alternate link (only self, edit, enclosure, ...)."""
    href = None
    dates: dict[str, str] = {}
    for child in elem:
        name = local_name(child.tag)
        if name == "link":
            rel = (child.get("rel") or "").strip().lower() or "alternate"
            if href is None and rel in _ALTERNATE_RELS:
                href = child.get("href")
        elif name in _ATOM_DATES and child.text:
            dates.setdefault(name, child.text)
    url = feed_url(href, base)
    if url is None:
        return None
    lastmod = next((parse_lastmod(dates[name]) for name in _ATOM_DATES if name in dates), None)
    return PageEntry(url, lastmod)


def _alternate(link: etree._Element) -> Alternate | None:
    """xhtml:link rel="alternate" hreflang=... href=... as {"hreflang", "href"}."""
    if (link.get("rel") or "").strip().lower() != "alternate":
        return None
    hreflang = (link.get("hreflang") or "").strip()
    href = http_url(link.get("href"))
    if not hreflang or href is None:
        return None
    return {"hreflang": hreflang, "href": href}


_IMAGE_FIELDS = {"loc": "loc", "title": "title", "caption": "caption"}


def _image(image: etree._Element) -> dict[str, str] | None:
    """image:image as {"loc", "title"?, "caption"?}, keeping only the keys present."""
    found: dict[str, str] = {}
    for child in image:
        key = _IMAGE_FIELDS.get(local_name(child.tag))
        text = (child.text or "").strip()
        if key is not None and text and key not in found:
            found[key] = text
    if "loc" not in found:
        return None
    return found


# video:video children kept, by local name; the rest (prices, restrictions, uploader) is rare.
_VIDEO_FIELDS = frozenset(
    (
        "thumbnail_loc",
        "title",
        "description",
        "content_loc",
        "player_loc",
        "duration",
        "publication_date",
        "expiration_date",
        "family_friendly",
        "live",
    )
)
_VIDEO_TEXT_MAX = 2048


def _video(video: etree._Element) -> dict[str, str] | None:
    """video:video as a dict of the fields present (see _VIDEO_FIELDS); None without any URL."""
    found: dict[str, str] = {}
    for child in video:
        name = local_name(child.tag)
        text = (child.text or "").strip()
        if name in _VIDEO_FIELDS and text and name not in found:
            found[name] = text[:_VIDEO_TEXT_MAX]
    if not any(key in found for key in ("content_loc", "player_loc", "thumbnail_loc")):
        return None
    return found


def _news(news: etree._Element) -> dict[str, str | None]:
    """news:news as {"title", "publication_name", "publication_language", "publication_date"}."""
    found: dict[str, str | None] = {
        "title": None,
        "publication_name": None,
        "publication_language": None,
        "publication_date": None,
    }
    for child in news:
        name = local_name(child.tag)
        if name == "publication":
            for part in child:
                part_name = local_name(part.tag)
                if part_name in ("name", "language"):
                    found["publication_" + part_name] = _clean(part.text)
        elif name == "title":
            found["title"] = _clean(child.text)
        elif name == "publication_date":
            published = parse_lastmod(child.text)
            found["publication_date"] = published.isoformat() if published else None
    return found


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None
