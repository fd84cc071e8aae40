"""Favicon and logo URLs."""

from typing import TYPE_CHECKING, Any

from lxml.html import HtmlElement

from scrapersky.metadata.structured import as_list, iter_nodes, node_types

if TYPE_CHECKING:
    from scrapersky.metadata.document import Page

_IMAGE_SOURCE_ATTRIBUTES = ("src", "data-src", "data-lazy-src", "data-original")
_LOGO_ANCESTOR_LEVELS = 3
_ORGANIZATION_TYPES = frozenset({"Organization", "Corporation", "Brand", "NGO", "Store", "Restaurant"})


def _icon_size(sizes: str | None) -> float:
    """Largest edge area declared in a `sizes` attribute ("16x16 32x32", "any")."""
    best = 0.0
    for size in (sizes or "").lower().split():
        if size == "any":
            return float("inf")
        width, _, height = size.partition("x")
        if width.isdigit() and height.isdigit():
            best = max(best, float(int(width) * int(height)))
    return best


def favicon(page: "Page") -> tuple[str | None, bool]:
    """`(url, probe)`: the largest icon link (the first when none declares a
    size); `probe` is True when there is no usable icon link, so the caller
    should try `/favicon.ico`."""
    best_url: str | None = None
    best_size = -1.0
    for link in page.root.iter("link"):
        rel = (link.get("rel") or "").lower()
        if "icon" not in rel:
            continue
        url = page.absolute(link.get("href"))
        if not url:
            continue
        size = _icon_size(link.get("sizes"))
        if size > best_size:
            best_url, best_size = url, size
    return best_url, best_url is None


def _image_url(page: "Page", value: Any, by_id: dict[str, dict[str, Any]]) -> str | None:
    """A URL from a schema.org image value: a string, an ImageObject, a
    reference to one by `@id`, or a list of those."""
    for item in as_list(value):
        if isinstance(item, str):
            url = page.absolute(item)
        elif isinstance(item, dict):
            target = item
            if "url" not in item and "contentUrl" not in item and isinstance(item.get("@id"), str):
                target = by_id.get(item["@id"], item)
            candidate = target.get("url") or target.get("contentUrl")
            url = page.absolute(candidate) if isinstance(candidate, str) else None
        else:
            url = None
        if url:
            return url
    return None


def _is_organization(node: dict[str, Any]) -> bool:
    return any(
        kind in _ORGANIZATION_TYPES or kind.endswith(("Organization", "Business"))
        for kind in node_types(node)
    )


def _json_ld_logo(page: "Page") -> str | None:
    nodes = list(iter_nodes(page.json_ld))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    with_logo = [node for node in nodes if "logo" in node]
    for node in sorted(with_logo, key=lambda node: not _is_organization(node)):
        url = _image_url(page, node["logo"], by_id)
        if url:
            return url
    return None


def _img_url(page: "Page", img: HtmlElement) -> str | None:
    for attribute in _IMAGE_SOURCE_ATTRIBUTES:
        value = img.get(attribute)
        if value and not value.strip().lower().startswith("data:"):
            url = page.absolute(value)
            if url:
                return url
    first_candidate = (img.get("srcset") or "").split(",")[0].split()
    return page.absolute(first_candidate[0]) if first_candidate else None


def _mentions_logo(element: HtmlElement, attributes: tuple[str, ...]) -> bool:
    return any("logo" in (element.get(attribute) or "").lower() for attribute in attributes)


def _markup_logo(page: "Page") -> str | None:
    images = list(page.root.iter("img"))
    tests = (
        lambda img: "custom-logo" in (img.get("class") or "").lower(),
        lambda img: _mentions_logo(img, ("class", "id", "alt")),
        lambda img: any(
            _mentions_logo(ancestor, ("class", "id"))
            for _, ancestor in zip(range(_LOGO_ANCESTOR_LEVELS), img.iterancestors())
        ),
    )
    for test in tests:
        for img in images:
            if test(img):
                url = _img_url(page, img)
                if url:
                    return url
    return None


def logo(page: "Page") -> str | None:
    """JSON-LD Organization logo, then an `<img>` marked as the logo (by
    class, id, alt, or a wrapping element), then og:image."""
    found = _json_ld_logo(page) or _markup_logo(page)
    if found:
        return found
    for value in page.meta_values("og:image") + page.meta_values("og:image:url"):
        url = page.absolute(value)
        if url:
            return url
    return None
