"""Whole-page extraction on realistic homepages (tests/unit/pages/)."""

from pathlib import Path
from typing import Any

import pytest

from scrapersky.metadata import extract_metadata, extract_page_summary

PAGES = Path(__file__).parent / "pages"

REQUIRED_KEYS = {
    "title",
    "description",
    "language",
    "favicon_url",
    "favicon_probe",
    "logo_url",
    "is_wordpress",
    "wordpress_version",
    "has_elementor",
    "tech_stack",
    "tech_versions",
    "tracking_ids",
    "email_addresses",
    "phone_numbers",
    "facebook_url",
    "twitter_url",
    "linkedin_url",
    "instagram_url",
    "youtube_url",
    "tiktok_url",
    "structured_data",
    "element_counts",
    "needs_render",
}


def extract(name: str, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return extract_metadata((PAGES / name).read_bytes(), url, headers)


@pytest.fixture(scope="module")
def wordpress() -> dict[str, Any]:
    return extract("wordpress_elementor.html", "https://www.brightsmiledental.com/")


@pytest.fixture(scope="module")
def shopify() -> dict[str, Any]:
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "X-ShopId": "61234567890",
        "Set-Cookie": "_shopify_y=abc; path=/",
    }
    return extract("shopify_store.html", "https://kaffeeroesterei-mueller.de/", headers)


@pytest.fixture(scope="module")
def organization() -> dict[str, Any]:
    return extract("organization_jsonld.html", "https://harbourfinch.co.uk/")


@pytest.fixture(scope="module")
def social() -> dict[str, Any]:
    return extract("social_links.html", "https://northwindbikes.com/")


@pytest.mark.parametrize("name", sorted(path.name for path in PAGES.glob("*.html")))
def test_every_page_has_every_key(name: str) -> None:
    metadata = extract(name, "https://example.org/")
    assert metadata.keys() >= REQUIRED_KEYS


def test_empty_body_gives_every_key_empty() -> None:
    metadata = extract_metadata(b"", "https://empty.example.org/")
    assert metadata.keys() >= REQUIRED_KEYS
    assert metadata["title"] is None
    assert metadata["email_addresses"] == [] and metadata["phone_numbers"] == []
    assert metadata["tech_stack"] == {} and metadata["structured_data"] == {}
    assert metadata["is_wordpress"] is False
    assert metadata["favicon_probe"] is True
    assert metadata["needs_render"] is True


def test_wordpress_text_fields(wordpress: dict[str, Any]) -> None:
    assert wordpress["title"] == "Bright Smile Dental \u2013 Family Dentistry in San Francisco"
    assert wordpress["description"] == (
        "Bright Smile Dental offers gentle family dentistry, cleanings & implants in San Francisco."
    )
    assert wordpress["language"] == "en-US"


def test_wordpress_generator_with_content_before_name(wordpress: dict[str, Any]) -> None:
    assert wordpress["is_wordpress"] is True
    assert wordpress["wordpress_version"] == "6.4.2"
    assert wordpress["has_elementor"] is True


def test_wordpress_tech_stack_and_tracking_ids(wordpress: dict[str, Any]) -> None:
    stack = wordpress["tech_stack"]
    assert stack["cms"] == ["WordPress"]
    assert stack["plugins"] == ["Elementor"]
    assert stack["analytics"] == ["Google Analytics", "Google Tag Manager"]
    assert "jQuery" in stack["frameworks"]
    assert wordpress["tech_versions"] == {"jQuery": "3.7.1"}  # jquery.min.js?ver=3.7.1
    assert wordpress["tracking_ids"] == {"ga4": ["G-7QX2LMB4ZP"], "gtm": ["GTM-K7P4W2N"]}


def test_wordpress_icons(wordpress: dict[str, Any]) -> None:
    assert wordpress["favicon_url"].endswith("/cropped-tooth-192x192.png")
    assert wordpress["favicon_probe"] is False
    assert wordpress["logo_url"] == (
        "https://www.brightsmiledental.com/wp-content/uploads/2023/05/bright-smile-logo.png"
    )


def test_wordpress_contacts(wordpress: dict[str, Any]) -> None:
    assert wordpress["email_addresses"] == [
        "appointments@brightsmiledental.com",
        "billing@brightsmiledental.com",
    ]
    assert wordpress["phone_numbers"] == ["+14155550132", "+14155550199"]


def test_wordpress_social_skips_share_links(wordpress: dict[str, Any]) -> None:
    assert wordpress["facebook_url"] == "https://facebook.com/BrightSmileDentalSF"
    assert wordpress["instagram_url"] == "https://instagram.com/brightsmilesf"
    assert wordpress["twitter_url"] is None


def test_wordpress_counts(wordpress: dict[str, Any]) -> None:
    counts = wordpress["element_counts"]
    assert counts["images"] == 3
    assert counts["headings"] == 2
    assert counts["scripts"] == 7
    assert counts["links"] == 9
    assert counts["forms"] == 0
    assert counts["words"] > 30
    assert wordpress["needs_render"] is False


def test_shopify_store(shopify: dict[str, Any]) -> None:
    assert shopify["title"] == "Kaffeerösterei Müller \u2013 Frisch gerösteter Kaffee aus Berlin"
    assert shopify["language"] == "de"
    assert shopify["tech_stack"]["cms"] == ["Shopify"]
    assert shopify["tech_stack"]["analytics"] == ["Facebook Pixel"]
    assert shopify["tracking_ids"] == {"facebook_pixel": ["987654321012345"]}
    assert shopify["is_wordpress"] is False and shopify["wordpress_version"] is None


def test_shopify_protocol_relative_urls(shopify: dict[str, Any]) -> None:
    assert shopify["favicon_url"] == (
        "https://kaffeeroesterei-mueller.de/cdn/shop/files/favicon.png?crop=center&height=32&v=1690000000&width=32"
    )
    assert shopify["logo_url"] == (
        "https://kaffeeroesterei-mueller.de/cdn/shop/files/mueller-wortmarke.png?v=1690000000&width=300"
    )


def test_shopify_german_contacts(shopify: dict[str, Any]) -> None:
    assert shopify["phone_numbers"] == ["+493012345678"]
    assert shopify["email_addresses"] == ["hallo@kaffeeroesterei-mueller.de"]
    assert shopify["instagram_url"] == "https://instagram.com/kaffee.mueller"
    assert shopify["facebook_url"] == "https://facebook.com/profile.php?id=100089123456789"


def test_shopify_structured_data(shopify: dict[str, Any]) -> None:
    data = shopify["structured_data"]
    assert "json-ld" not in data
    assert data["opengraph"][0]["og:title"] == "Kaffeerösterei Müller"
    product = data["microdata"][0]
    assert product["@type"] == "Product"
    assert product["name"] == "Espresso Kreuzberg"
    assert product["offers"]["price"] == "14.90"
    assert shopify["element_counts"]["forms"] == 1


def test_shopify_detected_from_headers_alone() -> None:
    body = b"<html><head><title>Shop</title></head><body><p>Welcome</p></body></html>"
    metadata = extract_metadata(body, "https://shop.example.org/", {"x-shopid": "1"})
    assert metadata["tech_stack"] == {"cms": ["Shopify"]}


def test_opengraph_only_page() -> None:
    metadata = extract("opengraph_only.html", "https://atelier-lumiere.fr/")
    assert metadata["title"] == "Atelier Lumière & Fils"
    assert metadata["description"] == "Luminaires faits main à Lyon depuis 1987."
    assert metadata["language"] == "fr-FR"
    # og:image is relative: it resolves against <base href>, not the page URL.
    assert metadata["logo_url"] == "https://cdn.atelier-lumiere.fr/site/images/atelier-vitrine.jpg"
    assert metadata["favicon_url"] is None and metadata["favicon_probe"] is True
    assert metadata["email_addresses"] == ["contact@atelier-lumiere.fr"]
    assert metadata["needs_render"] is False


def test_latin1_page_declared_by_meta() -> None:
    metadata = extract("latin1.html", "https://cafe-mueller.at/")
    assert metadata["title"] == "Café Müller - Wien"
    assert (
        metadata["description"]
        == "Kaffeehaus in Wien: Frühstück, Mehlspeisen & Grüße aus der Küche."
    )
    assert metadata["language"] == "de-AT"
    assert metadata["phone_numbers"] == ["+4315123456"]


def test_latin1_page_declared_by_header_only() -> None:
    body = (PAGES / "latin1.html").read_bytes().replace(b'<meta charset="iso-8859-1">', b"")
    assert b"charset" not in body
    metadata = extract_metadata(
        body, "https://cafe-mueller.at/", {"content-type": "text/html; charset=ISO-8859-1"}
    )
    assert metadata["title"] == "Café Müller - Wien"
    without_header = extract_metadata(body, "https://cafe-mueller.at/")
    assert without_header["title"] == "Caf\ufffd M\ufffdller - Wien"


def test_social_links_canonicalized(social: dict[str, Any]) -> None:
    assert social["twitter_url"] == "https://x.com/NorthwindBikes"
    assert social["tiktok_url"] == "https://tiktok.com/@northwindbikes"
    assert social["instagram_url"] == "https://instagram.com/northwindbikes"
    assert social["youtube_url"] == "https://youtube.com/@NorthwindBikes"
    assert social["linkedin_url"] == "https://linkedin.com/company/northwind-bikes"
    assert social["facebook_url"] == "https://facebook.com/northwindbikes"


def test_social_ignores_embedded_posts(social: dict[str, Any]) -> None:
    assert "happyrider" not in social["twitter_url"]
    assert "bikereviewer" not in social["tiktok_url"]


def test_organization_json_ld_logo_and_same_as(organization: dict[str, Any]) -> None:
    assert organization["title"] == "Harbour & Finch Solicitors | Manchester"
    # The Organization's logo is an @id reference to an ImageObject in the graph.
    assert organization["logo_url"] == "https://harbourfinch.co.uk/media/harbour-finch-logo.png"
    # sameAs wins over the (older) Facebook link in the footer.
    assert organization["facebook_url"] == "https://facebook.com/HarbourFinchLaw"
    assert organization["twitter_url"] == "https://twitter.com/harbourfinch"
    assert organization["linkedin_url"] == "https://linkedin.com/company/harbour-finch-solicitors"
    assert organization["instagram_url"] == "https://instagram.com/harbourfinchlaw"


def test_organization_uk_phones_on_co_uk(organization: dict[str, Any]) -> None:
    assert organization["phone_numbers"] == [
        "+441614960000",
        "+442079460958",
        "+441614960001",
        "+442079460000",
    ]
    assert organization["email_addresses"] == ["enquiries@harbourfinch.co.uk"]


def test_organization_broken_json_ld_is_skipped(organization: dict[str, Any]) -> None:
    json_ld = organization["structured_data"]["json-ld"]
    assert len(json_ld) == 1
    assert json_ld[0]["@graph"][1]["name"] == "Harbour & Finch Solicitors LLP"


def test_organization_favicon_prefers_any_size(organization: dict[str, Any]) -> None:
    assert organization["favicon_url"] == "https://harbourfinch.co.uk/favicon.svg"


def test_js_shell_needs_render() -> None:
    metadata = extract("spa_shell.html", "https://app.acme.io/")
    assert metadata["title"] == "Acme Dashboard"
    assert metadata["element_counts"]["words"] == 0
    assert metadata["has_visible_text"] is False
    assert metadata["needs_render"] is True


def test_page_without_title_needs_render() -> None:
    metadata = extract_metadata(
        b"<html><body><p>Plenty of words here.</p></body></html>", "https://a.example.org/"
    )
    assert metadata["title"] is None
    assert metadata["needs_render"] is True


def test_page_summary_uses_same_fallbacks() -> None:
    summary = extract_page_summary(
        (PAGES / "opengraph_only.html").read_bytes(), "https://atelier-lumiere.fr/contact"
    )
    assert summary == {
        "title": "Atelier Lumière & Fils",
        "description": "Luminaires faits main à Lyon depuis 1987.",
        "language": "fr-FR",
    }


def test_page_summary_language_from_header() -> None:
    summary = extract_page_summary(
        b"<html><head><title>Hi</title></head></html>",
        "https://a.example.org/",
        {"Content-Language": "nl-BE, en"},
    )
    assert summary == {"title": "Hi", "description": None, "language": "nl-BE"}
