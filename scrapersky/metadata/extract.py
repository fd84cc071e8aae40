"""The public entry points: response bytes in, plain metadata out."""

from collections.abc import Mapping
from typing import Any

from scrapersky.metadata import contacts, counts, icons, social, structured, tech, text
from scrapersky.metadata.document import HtmlDocument
from scrapersky.metadata.region import infer_region
from scrapersky.metadata.urls import host_of


def extract_metadata(
    body: bytes, url: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything ScraperSky keeps about a site from its homepage. Every key
    is always present (None, [], {} or False when nothing was found)."""
    page = HtmlDocument.from_response(body, url, headers)
    title = text.title(page)
    language = text.language(page)
    favicon_url, favicon_probe = icons.favicon(page)
    stack = tech.detect(page)
    is_wordpress = "WordPress" in stack.get("cms", [])
    profiles = social.profiles(page)
    element_counts = counts.element_counts(page)
    region = infer_region(host_of(url), language, page.json_ld, text.locales(page))
    return {
        "title": title,
        "description": text.description(page),
        "language": language,
        "favicon_url": favicon_url,
        "favicon_probe": favicon_probe,
        "logo_url": icons.logo(page),
        "is_wordpress": is_wordpress,
        "wordpress_version": tech.wordpress_version(page) if is_wordpress else None,
        "has_elementor": "Elementor" in stack.get("plugins", []),
        "tech_stack": stack,
        "tech_versions": tech.versions(page, stack),
        "tracking_ids": tech.tracking_ids(page),
        "email_addresses": contacts.emails(page),
        "phone_numbers": contacts.phones(page, region),
        "facebook_url": profiles["facebook"],
        "twitter_url": profiles["twitter"],
        "linkedin_url": profiles["linkedin"],
        "instagram_url": profiles["instagram"],
        "youtube_url": profiles["youtube"],
        "tiktok_url": profiles["tiktok"],
        "structured_data": structured.structured_data(page.root, page.base_url, page.json_ld),
        "element_counts": element_counts,
        "has_visible_text": element_counts["words"] > 0,
        "needs_render": counts.needs_render(title, element_counts["words"]),
    }


def extract_page_summary(
    body: bytes, url: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Title, description and language of any page, with the same fallbacks."""
    page = HtmlDocument.from_response(body, url, headers)
    return {
        "title": text.title(page),
        "description": text.description(page),
        "language": text.language(page),
    }
