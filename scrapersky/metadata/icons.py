"""Favicon and logo URLs."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from scrapersky.metadata.structured import as_list, iter_nodes, node_types

if TYPE_CHECKING:
    from scrapersky.metadata.document import HtmlDocument

_IMAGE_SOURCE_ATTRIBUTES = ("src", "data-src", "data-lazy-src", "data-original")
_LOGO_ANCESTOR_LEVELS = 3
_ORGANIZATION_TYPES = frozenset(
    {"Organization", "Corporation", "Brand", "NGO", "Store", "Restaurant"}
)


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


def favicon(page: "HtmlDocument") -> tuple[str | None, bool]:
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


def _image_url(page: "HtmlDocument", value: Any, by_id: dict[str, dict[str, Any]]) -> str | None:
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


def _json_ld_logo(page: "HtmlDocument") -> str | None:
    nodes = list(iter_nodes(page.json_ld))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    with_logo = [node for node in nodes if "logo" in node]
    for node in sorted(with_logo, key=lambda node: not _is_organization(node)):
        url = _image_url(page, node["logo"], by_id)
        if url:
            return url
    return None


def _img_url(page: "HtmlDocument", img: HtmlElement) -> str | None:
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


def _file_says_logo(page: "HtmlDocument", img: HtmlElement) -> bool:
    """The image's file name (not its folder) says "logo": /uploads/2019/05/acme-logo.png."""
    return "logo" in _path(_img_url(page, img) or "").rstrip("/").rpartition("/")[2].lower()


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # a malformed URL ("http://[::1"): no path to judge
        return ""


def _links_home(page: "HtmlDocument", element: HtmlElement) -> bool:
    href = page.absolute(element.get("href"))
    if not href:
        return False
    home = page.absolute("/")
    return href.split("#")[0].rstrip("/") == (home or "").rstrip("/")


def _header_home_image(page: "HtmlDocument", img: HtmlElement) -> bool:
    """The first kind of image a site header holds: one inside a link to the homepage."""
    ancestors = list(img.iterancestors())
    in_header = any(
        a.tag == "header" or (a.get("role") or "").lower() == "banner" for a in ancestors
    )
    return in_header and any(
        a.tag == "a" and _links_home(page, a) for a in ancestors[:_LOGO_ANCESTOR_LEVELS]
    )


# Where other brands' logos sit: share buttons, social widgets, comment systems.
_WIDGET = re.compile(
    r"shar(?:e|ing)|social|service[-_]links|comment|follow|badge|sponsor|partner", re.IGNORECASE
)
_WIDGET_ANCESTOR_LEVELS = 6
_CONTENT_ITEMPROPS = frozenset(("image", "photo", "thumbnailurl", "primaryimageofpage"))


def _in_widget(img: HtmlElement) -> bool:
    """The image belongs to a widget (by its file path or an enclosing class or id): the logo
    in it is another brand's (del.icio.us, WordPress.com), not the site's."""
    source = next((img.get(name) for name in _IMAGE_SOURCE_ATTRIBUTES if img.get(name)), "") or ""
    if _WIDGET.search(source.split("?")[0]):
        return True
    return any(
        _WIDGET.search(f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}")
        for _, ancestor in zip(range(_WIDGET_ANCESTOR_LEVELS), img.iterancestors(), strict=False)
    )


def _markup_logo(page: "HtmlDocument") -> str | None:
    # Not another brand's (a widget's), nor an item's own picture (microdata itemprop="image").
    images = [
        img
        for img in page.root.iter("img")
        if not _in_widget(img)
        and (img.get("itemprop") or "").strip().lower() not in _CONTENT_ITEMPROPS
    ]
    tests: tuple[Callable[[HtmlElement], bool], ...] = (
        lambda img: "custom-logo" in (img.get("class") or "").lower(),
        lambda img: _mentions_logo(img, ("class", "id", "alt")),
        lambda img: any(
            _mentions_logo(ancestor, ("class", "id"))
            for _, ancestor in zip(range(_LOGO_ANCESTOR_LEVELS), img.iterancestors(), strict=False)
        ),
        lambda img: _file_says_logo(page, img),
        lambda img: _header_home_image(page, img),
    )
    for test in tests:
        for img in images:
            if test(img):
                url = _img_url(page, img)
                if url:
                    return url
    return None


# og:type values whose og:image is a photo of the thing shown, never the site's logo.
_PHOTO_TYPES = frozenset(
    {
        "article",
        "profile",
        "book",
        "product",
        "video.movie",
        "video.episode",
        "video.other",
        "music.song",
        "music.album",
    }
)


# The path of a site's front page: "/", "/index.html", a language root such as "/en/" or "/de-at/".
_FRONT_PAGE = re.compile(r"/?(?:[a-z]{2}(?:[-_][a-z]{2})?/?)?(?:index\.[a-z]+)?", re.IGNORECASE)


def _share_image(page: "HtmlDocument") -> str | None:
    """og:image, when the page is the site's front page, not of a kind whose image is a photo
    of its subject (og:type article, profile, product, …), and the image is not one of the
    page's content photos (inside <article> or <main>). On any other page, the share image
    shows that page's subject."""
    kind = next(iter(page.meta_values("og:type")), "website").strip().lower()
    if kind in _PHOTO_TYPES or not _FRONT_PAGE.fullmatch(_path(page.url)):
        return None
    content_images = {
        page.absolute(src) for src in page.root.xpath("//article//img/@src | //main//img/@src")
    }
    for value in page.meta_values("og:image") + page.meta_values("og:image:url"):
        url = page.absolute(value)
        if url and url not in content_images:
            return url
    return None


def logo(page: "HtmlDocument") -> str | None:
    """JSON-LD Organization logo, then an `<img>` marked as the logo (by class, id, alt, a
    wrapping element or its file name; never inside a share, social or comment widget), then
    the image linking home in the header, and only then the share image (og:image) of the
    site's front page."""
    return _json_ld_logo(page) or _markup_logo(page) or _share_image(page)
