"""Structured data: JSON-LD, OpenGraph and microdata."""

import json
import re
from collections.abc import Iterator
from typing import Any, Protocol

import jstyleson
from lxml.html import HtmlElement

_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)", re.MULTILINE)
_MAX_DEPTH = 32
# What extruct's microdata extractor reads: elements with `itemscope`. A page without any gives
# it nothing to find, so extruct is not even imported for it.
_MICRODATA_MARKUP = "boolean(//*[@itemscope])"
# OpenGraph's own namespaces, which need no `prefix` declaration (extruct's list).
_OG_NAMESPACES = {
    "og": "http://ogp.me/ns#",
    "music": "http://ogp.me/ns/music#",
    "video": "http://ogp.me/ns/video#",
    "article": "http://ogp.me/ns/article#",
    "book": "http://ogp.me/ns/book#",
    "profile": "http://ogp.me/ns/profile#",
    "product": "http://ogp.me/ns/product#",
}
# A `prefix` attribute's "name: IRI" pairs, found as extruct finds them (its pattern is
# r"\s*(\w+):\s*([^\s]+)"). Starting only where a word starts makes the search linear: extruct's
# retries every position inside a long word or run of spaces, 13 s for a 40 KB attribute.
_PREFIX = re.compile(r"(?<!\w)(\w+):\s*(\S+)")


def _reject_constant(_: str) -> None:
    # NaN and Infinity are not JSON: databases refuse them in JSON columns.
    return None


def _load_json(script: str) -> Any:
    try:
        return json.loads(script, strict=False, parse_constant=_reject_constant)
    except ValueError:
        # Pages wrap JSON-LD in HTML or JavaScript comments, or leave trailing commas.
        return jstyleson.loads(
            _COMMENT_LINE.sub("", script), strict=False, parse_constant=_reject_constant
        )


def parse_json_ld(root: HtmlElement) -> list[Any]:
    """Every JSON-LD item on the page; a script that does not parse is
    skipped without affecting the others."""
    items: list[Any] = []
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = _load_json(script.text or "")
        except (ValueError, TypeError, RecursionError, IndexError):
            continue
        if isinstance(data, list):
            items.extend(item for item in data if isinstance(item, dict) and item)
        elif isinstance(data, dict) and data:
            items.append(data)
    return items


def iter_nodes(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object inside `value` (items, `@graph` members, nested
    values), outermost first."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from iter_nodes(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from iter_nodes(child, depth + 1)


def node_types(node: dict[str, Any]) -> list[str]:
    """The node's `@type` values without any schema.org prefix."""
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return [value.rsplit("/", 1)[-1] for value in values if isinstance(value, str)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def structured_data(root: HtmlElement, base_url: str, json_ld: list[Any]) -> dict[str, list[Any]]:
    """`{"json-ld": [...], "opengraph": [...], "microdata": [...]}` in the
    shape `extruct.extract(..., uniform=True)` gives, empty syntaxes omitted."""
    result: dict[str, list[Any]] = {}
    if json_ld:
        result["json-ld"] = json_ld
    if graph := opengraph(root):
        result["opengraph"] = graph
    if root.xpath(_MICRODATA_MARKUP):
        try:
            items = _extract()(root, base_url=base_url, syntaxes=["microdata"], uniform=True)
        except Exception:  # extruct raises many kinds of error on malformed markup
            items = {}
        if items.get("microdata"):
            result["microdata"] = items["microdata"]
    return result


def opengraph(root: HtmlElement) -> list[dict[str, Any]]:
    """The page's OpenGraph objects, one per `head`, exactly as `extruct.extract(...,
    syntaxes=["opengraph"], uniform=True)` gives them: a head's `meta property content`
    whose namespace is OpenGraph's own or declared in a `prefix` attribute (of the head or of
    the html element), the first non-blank value of each property, `og:type` as `@type`, the
    namespaces as `@context`.

    Read here rather than by extruct, whose package imports every syntax's parser (mf2py,
    BeautifulSoup, requests, rdflib, html5lib) with any of them: 0.3 s at each crawl's start,
    for the OpenGraph tags that most homepages carry. The corpus test holds this to extruct's
    output on every real page it carries."""
    heads = root.xpath("//head")
    if not heads:
        return []
    html = heads[0].xpath("parent::html")
    declared = _prefixes(html[0]) if html else {}
    objects: list[dict[str, Any]] = []
    for head in heads:
        namespaces = {**declared, **_prefixes(head)}
        values: dict[str, Any] = {}
        for meta in head.xpath("meta[@property and @content]"):
            name, value = meta.get("property"), meta.get("content")
            namespace = name.partition(":")[0]
            if namespace in _OG_NAMESPACES:
                namespaces[namespace] = _OG_NAMESPACES[namespace]
            if namespace not in namespaces:
                continue
            if name not in values or (value.strip() and not values[name].strip()):
                values[name] = value
        if not values:
            continue
        if kind := values.pop("og:type", None):
            values["@type"] = kind
        values["@context"] = namespaces
        objects.append(values)
    return objects


def _prefixes(element: HtmlElement) -> dict[str, str]:
    """The namespaces an RDFa `prefix` attribute declares ("og: http://ogp.me/ns#")."""
    return dict(_PREFIX.findall(element.get("prefix", "")))


class _Extract(Protocol):
    """`extruct.extract` as called here (extruct has no type annotations)."""

    def __call__(
        self, htmlstring: HtmlElement, /, *, base_url: str, syntaxes: list[str], uniform: bool
    ) -> dict[str, list[Any]]: ...


def _extract() -> _Extract:
    """extruct and the parsers behind it (rdflib, mf2py, html5lib) take 0.3 s or more to import:
    loaded with the first page that has microdata, not with every run."""
    import extruct

    extract: _Extract = extruct.extract
    return extract
