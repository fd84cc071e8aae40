"""The country a site's national-format phone numbers belong to."""

from collections.abc import Sequence
from typing import Any

import phonenumbers

from scrapersky.metadata.structured import as_list, iter_nodes

DEFAULT_REGION = "US"
_TLD_REGIONS = {"uk": "GB"}
# Country-code TLDs sold worldwide as generic names: they say nothing about
# where the site is, unless used under a national second level (com.co).
_VANITY_TLDS = frozenset(
    {
        "ac",
        "ai",
        "cc",
        "cd",
        "co",
        "fm",
        "gg",
        "gl",
        "io",
        "la",
        "ly",
        "me",
        "ml",
        "nu",
        "sh",
        "so",
        "tk",
        "to",
        "tv",
        "vc",
        "ws",
    }
)
_NATIONAL_SECOND_LEVELS = frozenset(
    {"ac", "co", "com", "edu", "gob", "gov", "gv", "ne", "net", "or", "org"}
)


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
    """`GB` for `en-GB` or `en_GB`; None for a bare language (`en`) or `es-419`."""
    if not tag:
        return None
    for subtag in tag.replace("_", "-").split("-")[1:]:
        if len(subtag) == 2 and subtag.isalpha():
            return _supported(subtag)
    return None


# Languages spoken as a first language mostly in one country: a page in one of them, with no
# better signal, most likely lists that country's numbers. English, Spanish, Portuguese, French,
# Arabic and the like are spoken in too many countries to say.
_LANGUAGE_HOMES = {
    "bg": "BG",
    "cs": "CZ",
    "da": "DK",
    "de": "DE",
    "el": "GR",
    "et": "EE",
    "fi": "FI",
    "he": "IL",
    "hr": "HR",
    "hu": "HU",
    "is": "IS",
    "it": "IT",
    "ja": "JP",
    "ko": "KR",
    "lt": "LT",
    "lv": "LV",
    "nb": "NO",
    "nl": "NL",
    "nn": "NO",
    "no": "NO",
    "pl": "PL",
    "ro": "RO",
    "ru": "RU",
    "sk": "SK",
    "sl": "SI",
    "sv": "SE",
    "th": "TH",
    "tr": "TR",
    "uk": "UA",
    "vi": "VN",
}


def region_from_bare_language(tag: str | None) -> str | None:
    """`DE` for `de` (or `de-…` without a region): the language's home country, if it has one."""
    if not tag:
        return None
    return _LANGUAGE_HOMES.get(tag.replace("_", "-").split("-")[0].lower())


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


def infer_region(
    host: str, language: str | None, json_ld: list[Any], locales: Sequence[str] = ()
) -> str:
    """ccTLD, then the region of the language or of another locale the page declares
    (og:locale, hreflang), then the JSON-LD address, then the language's home country, then US."""
    return (
        region_from_host(host)
        or region_from_language(language)
        or next(filter(None, map(region_from_language, locales)), None)
        or region_from_json_ld(json_ld)
        or region_from_bare_language(language)
        or DEFAULT_REGION
    )
