"""One parsed page, shared by every field extractor."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from scrapersky.metadata.charset import decode_html
from scrapersky.metadata.headers import normalize_headers
from scrapersky.metadata.structured import parse_json_ld
from scrapersky.metadata.urls import link_url

_PARSER = lxml.html.HTMLParser(encoding="utf-8", recover=True, huge_tree=True)
_EMPTY_DOCUMENT = b"<html><head></head><body></body></html>"
_META_KEYS = ("name", "property", "http-equiv", "itemprop")
# Subtrees whose text a visitor never reads.
_HIDDEN_TAGS = frozenset(
    {
        "head",
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "canvas",
        "select",
    }
)
# Elements that break a line, so text from neighbouring blocks never runs together.
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)


def parse_html(html: str) -> HtmlElement:
    """The document root; an empty document when nothing parses."""
    data = html.encode("utf-8", "replace")
    root = lxml.etree.fromstring(data, parser=_PARSER) if data.strip() else None
    if root is None:
        root = lxml.etree.fromstring(_EMPTY_DOCUMENT, parser=_PARSER)
    return _document_element(root)


def _document_element(root: HtmlElement) -> HtmlElement:
    """The top-level element that holds the document. A stray element before the real one
    (`<html xml:lang="de_DE" />` ahead of the page, as some CMS templates print) becomes an
    empty first root, and the page itself its sibling."""
    if len(root):
        return root
    for sibling in root.itersiblings():
        if isinstance(sibling.tag, str) and len(sibling):
            return sibling
    return root


def visible_text(root: HtmlElement) -> str:
    """The body's readable text, one line per block element."""
    body = root.find("body")
    start = body if body is not None else root
    parts: list[str] = []
    # Iterative walk: generated pages nest deeper than Python's recursion limit.
    stack: list[HtmlElement | str] = [start]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        tag = item.tag
        if not isinstance(tag, str) or tag in _HIDDEN_TAGS or item.get("hidden") is not None:
            continue
        block = tag in _BLOCK_TAGS
        if block:
            parts.append("\n")
            stack.append("\n")
        if item.text:
            parts.append(item.text)
        for child in reversed(item):
            if child.tail:
                stack.append(child.tail)
            stack.append(child)
    return "".join(parts)


@dataclass
class HtmlDocument:
    """A decoded and parsed response; derived views are computed once."""

    url: str
    html: str
    root: HtmlElement
    headers: dict[str, str]

    @classmethod
    def from_response(
        cls, body: bytes, url: str, headers: Mapping[Any, Any] | None
    ) -> "HtmlDocument":
        plain_headers = normalize_headers(headers)
        html = decode_html(body, plain_headers.get("content-type"))
        return cls(url=url, html=html, root=parse_html(html), headers=plain_headers)

    @cached_property
    def base_url(self) -> str:
        """The page URL, or its `<base href>` when that is a valid http(s) URL."""
        for href in self.root.xpath("//base/@href"):
            resolved = link_url(str(href), self.url)
            if resolved:
                return resolved
        return self.url

    @cached_property
    def meta(self) -> dict[str, list[str]]:
        """`<meta>` contents keyed by lowercase name, property, http-equiv
        and itemprop, in document order; attribute order never matters."""
        index: dict[str, list[str]] = {}
        for element in self.root.iter("meta"):
            content = element.get("content")
            if content is None:
                continue
            for attribute in _META_KEYS:
                key = element.get(attribute)
                if key:
                    index.setdefault(key.strip().lower(), []).append(content)
        return index

    def meta_values(self, key: str) -> list[str]:
        return self.meta.get(key, [])

    @cached_property
    def visible_text(self) -> str:
        return visible_text(self.root)

    @cached_property
    def json_ld(self) -> list[Any]:
        return parse_json_ld(self.root)

    def absolute(self, href: str | None) -> str | None:
        return link_url(href, self.base_url)
