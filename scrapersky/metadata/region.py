"""The country a site's national-format phone numbers belong to."""

from typing import Any

import phonenumbers

from scrapersky.metadata.structured import as_list, iter_nodes

DEFAULT_REGION = "US"
_TLD_REGIONS = {"uk": "GB"}
# Country-code TLDs sold worldwide as generic names: they say nothing about
# where the site is, unless used under a national second level (com.co).
_VANITY_TLDS = frozenset(
    {"ac", "ai", "cc", "cd", "co", "fm", "gg", "gl", "io", "la", "ly", "me", "ml", "nu", "sh", "so", "tk", "to", "tv", "vc", "ws"}
)
_NATIONAL_SECOND_LEVELS = frozenset({"ac", "co", "com", "edu", "gob", "gov", "gv", "ne", "net", "or", "org"})


def _supported(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().upper()
    code = {"UK": "GB"}.get(code, code)
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def region_from_host(host: str) -> str | None:
    """`DE` for `example.de`, `GB` for `example.co.uk`; None for generic TLDs."""
    labels = [label for label in host.lower().split(".") if label]
    if len(labels) < 2:
        return None
    tld = labels[-1]
    if tld in _VANITY_TLDS and not (len(labels) >= 3 and labels[-2] in _NATIONAL_SECOND_LEVELS):
        return None
    return _supported(_TLD_REGIONS.get(tld, tld)) if len(tld) == 2 else None


def region_from_language(tag: str | None) -> str | None:
    """`GB` for `en-GB`; None for a bare language (`en`) or `es-419`."""
    if not tag:
        return None
    for subtag in tag.split("-")[1:]:
        if len(subtag) == 2 and subtag.isalpha():
            return _supported(subtag)
    return None


def region_from_json_ld(json_ld: list[Any]) -> str | None:
    """The first two-letter `addressCountry` of a PostalAddress."""
    for node in iter_nodes(json_ld):
        for country in as_list(node.get("addressCountry")):
            if isinstance(country, dict):
                country = country.get("name") or country.get("identifier")
            if isinstance(country, str) and len(country.strip()) == 2:
                region = _supported(country)
                if region:
                    return region
    return None


def infer_region(host: str, language: str | None, json_ld: list[Any]) -> str:
    """ccTLD, then the language's region, then the JSON-LD address, then US."""
    return (
        region_from_host(host)
        or region_from_language(language)
        or region_from_json_ld(json_ld)
        or DEFAULT_REGION
    )
