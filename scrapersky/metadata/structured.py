"""Structured data: JSON-LD, OpenGraph and microdata."""

import json
import re
from collections.abc import Iterator
from typing import Any, Protocol

import jstyleson
from lxml.html import HtmlElement

_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)", re.MULTILINE)
_MAX_DEPTH = 32
# What extruct's OpenGraph and microdata extractors read: `meta` elements with a `property`
# and elements with `itemscope`. A page with neither gives them nothing to find, so extruct
# is not even imported for it.
_EXTRUCT_MARKUP = "boolean(//meta[@property] | //*[@itemscope])"


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
    if not root.xpath(_EXTRUCT_MARKUP):
        return result
    # One syntax at a time: a failure in one must not lose the others.
    for syntax in ("opengraph", "microdata"):
        try:
            items = _extract()(root, base_url=base_url, syntaxes=[syntax], uniform=True)[syntax]
        except Exception:  # extruct raises many kinds of error on malformed markup
            continue
        if items:
            result[syntax] = items
    return result


class _Extract(Protocol):
    """`extruct.extract` as called here (extruct has no type annotations)."""

    def __call__(
        self, htmlstring: HtmlElement, /, *, base_url: str, syntaxes: list[str], uniform: bool
    ) -> dict[str, list[Any]]: ...


def _extract() -> _Extract:
    """extruct and the parsers behind it (rdflib, mf2py, html5lib) take 0.3 s or more to import:
    loaded with the first page that has microdata or OpenGraph, not with every run."""
    import extruct

    extract: _Extract = extruct.extract
    return extract
