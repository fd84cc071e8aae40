"""The text fields: title, description, language."""

import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapersky.metadata.document import HtmlDocument

# The caps of the text fields, for extraction and for NormalizePipeline alike.
MAX_TITLE_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 2000
MAX_LANGUAGE_LENGTH = 35  # the longest BCP 47 tag worth keeping; also the column's width

_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$", re.IGNORECASE)


def clean_text(value: str | None, limit: int = MAX_DESCRIPTION_LENGTH) -> str | None:
    """Whitespace collapsed, cut to `limit` characters; None when nothing is left."""
    if not value:
        return None
    return " ".join(value.split())[:limit].rstrip() or None


def _first_clean(values: list[str], limit: int) -> str | None:
    for value in values:
        text = clean_text(html.unescape(value), limit)  # pages often escape entities twice
        if text:
            return text
    return None


def title(page: "HtmlDocument") -> str | None:
    """`<title>`, then og:title, then twitter:title."""
    titles = [element.text_content() for element in page.root.xpath("//title[not(ancestor::svg)]")]
    return _first_clean(
        titles + page.meta_values("og:title") + page.meta_values("twitter:title"), MAX_TITLE_LENGTH
    )


def description(page: "HtmlDocument") -> str | None:
    """Meta description, then og:description, then twitter:description."""
    return _first_clean(
        page.meta_values("description")
        + page.meta_values("og:description")
        + page.meta_values("twitter:description"),
        MAX_DESCRIPTION_LENGTH,
    )


def normalize_language(value: str | None) -> str | None:
    """A BCP 47 tag in canonical case (`en-GB`, `zh-Hant-TW`); the first
    of a comma-separated list; None when it is not a language tag."""
    if not value:
        return None
    tag = value.split(",")[0].split(";")[0].strip().replace("_", "-")
    if not tag or len(tag) > MAX_LANGUAGE_LENGTH or not _LANGUAGE_TAG.match(tag):
        return None
    primary, *rest = tag.split("-")
    subtags = [primary.lower()]
    for subtag in rest:
        if len(subtag) == 2 and subtag.isalpha():
            subtags.append(subtag.upper())
        elif len(subtag) == 4 and subtag.isalpha():
            subtags.append(subtag.title())
        else:
            subtags.append(subtag.lower())
    return "-".join(subtags)


def language(page: "HtmlDocument") -> str | None:
    """`<html lang>`, then the content-language meta, then the HTTP header."""
    candidates = [page.root.get("lang"), page.root.get("xml:lang")]
    candidates += page.meta_values("content-language")
    candidates.append(page.headers.get("content-language"))
    for candidate in candidates:
        tag = normalize_language(candidate)
        if tag:
            return tag
    return None


def locales(page: "HtmlDocument") -> list[str]:
    """Locales the page declares besides its language: og:locale, then the page's own
    hreflang alternate (the one whose href is the page itself)."""
    found = [value.strip() for value in page.meta_values("og:locale") if value.strip()]
    for link in page.root.iter("link"):
        hreflang = (link.get("hreflang") or "").strip()
        if (
            hreflang
            and "alternate" in (link.get("rel") or "").lower()
            and page.absolute(link.get("href")) == page.url
        ):
            found.append(hreflang)
    return found


def word_count(text: str) -> int:
    return len(text.split())
