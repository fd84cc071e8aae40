"""Element counts and the decision whether a page needs a browser."""

from typing import TYPE_CHECKING

from scrapersky.metadata.text import word_count

if TYPE_CHECKING:
    from scrapersky.metadata.document import HtmlDocument

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def element_counts(page: "HtmlDocument") -> dict[str, int]:
    """Links (`<a href>`), images, scripts, forms, headings (h1–h6) and
    words of visible text."""
    counts = {"links": 0, "images": 0, "scripts": 0, "forms": 0, "headings": 0}
    for element in page.root.iter("a", "img", "script", "form", *_HEADINGS):
        tag = element.tag
        if tag == "a":
            counts["links"] += element.get("href") is not None
        elif tag == "img":
            counts["images"] += 1
        elif tag == "script":
            counts["scripts"] += 1
        elif tag == "form":
            counts["forms"] += 1
        else:
            counts["headings"] += 1
    counts["words"] = word_count(page.visible_text)
    return counts


def needs_render(title: str | None, words: int) -> bool:
    """True when the static HTML lacks a title or any visible text, as a
    JavaScript-only shell does: the caller should render it in a browser."""
    return title is None or words == 0
