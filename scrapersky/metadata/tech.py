"""Technology detection from the fingerprint table, and tracking ids."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from scrapersky.metadata.document import Page

FINGERPRINTS_FILE = "fingerprints.json"

_WORDPRESS_GENERATOR = re.compile(r"\bWordPress\s+(\d+(?:\.\d+){1,3})\b", re.IGNORECASE)
_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+){0,2}$")
_TRACKING_PATTERNS = {
    "ga4": re.compile(r"\b(G-[A-Z0-9]{6,12})\b"),
    "universal_analytics": re.compile(r"\b(UA-\d{4,10}-\d{1,4})\b"),
    "google_ads": re.compile(r"\b(AW-\d{6,12})\b"),
    "facebook_pixel": re.compile(r"""fbq\(\s*['"]init['"]\s*,\s*['"]?(\d{6,20})"""),
}
_GTM_ID = re.compile(r"\b(GTM-[A-Z0-9]{4,9})\b")
_FACEBOOK_PIXEL_IMAGE = re.compile(r"facebook\.com/tr\?id=(\d{6,20})")


@dataclass(frozen=True)
class Fingerprint:
    name: str
    category: str
    generator: tuple[re.Pattern[str], ...] = ()
    script_src: tuple[re.Pattern[str], ...] = ()
    html: tuple[re.Pattern[str], ...] = ()
    headers: tuple[tuple[str, re.Pattern[str]], ...] = ()
    cookies: tuple[re.Pattern[str], ...] = ()
    implies: tuple[str, ...] = field(default=())


def _compile(patterns: list[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)


def _fingerprint(entry: dict[str, Any]) -> Fingerprint:
    return Fingerprint(
        name=entry["name"],
        category=entry["category"],
        generator=_compile(entry.get("generator", [])),
        script_src=_compile(entry.get("script_src", [])),
        html=_compile(entry.get("html", [])),
        headers=tuple(
            (name.lower(), re.compile(pattern, re.IGNORECASE))
            for name, pattern in entry.get("headers", {}).items()
        ),
        cookies=_compile(entry.get("cookies", [])),
        implies=tuple(entry.get("implies", [])),
    )


@lru_cache(maxsize=1)
def fingerprints() -> tuple[Fingerprint, ...]:
    """The fingerprint table shipped in the package, compiled once."""
    text = resources.files(__package__).joinpath(FINGERPRINTS_FILE).read_text(encoding="utf-8")
    return tuple(_fingerprint(entry) for entry in json.loads(text)["technologies"])


@dataclass(frozen=True)
class Evidence:
    """What fingerprints are matched against, gathered once per page."""

    html: str
    script_src: str
    generators: tuple[str, ...]
    headers: dict[str, str]

    @classmethod
    def of(cls, page: "Page") -> "Evidence":
        sources = (script.get("src") for script in page.root.iter("script"))
        return cls(
            html=page.html,
            script_src="\n".join(src for src in sources if src),
            generators=tuple(page.meta_values("generator")),
            headers=page.headers,
        )


def _matches(fingerprint: Fingerprint, evidence: Evidence) -> bool:
    if any(p.search(value) for p in fingerprint.generator for value in evidence.generators):
        return True
    if evidence.script_src and any(p.search(evidence.script_src) for p in fingerprint.script_src):
        return True
    for name, pattern in fingerprint.headers:
        value = evidence.headers.get(name)
        if value is not None and pattern.search(value):
            return True
    cookies = evidence.headers.get("set-cookie", "")
    if cookies and any(p.search(cookies) for p in fingerprint.cookies):
        return True
    return any(p.search(evidence.html) for p in fingerprint.html)


def detect(page: "Page") -> dict[str, list[str]]:
    """`{category: sorted names}` for every matching fingerprint and what it
    implies; categories with nothing are left out."""
    table = {fingerprint.name: fingerprint for fingerprint in fingerprints()}
    evidence = Evidence.of(page)
    found = {fingerprint.name for fingerprint in table.values() if _matches(fingerprint, evidence)}
    pending = list(found)
    while pending:
        for implied in table[pending.pop()].implies:
            if implied in table and implied not in found:
                found.add(implied)
                pending.append(implied)
    stack: dict[str, list[str]] = {}
    for name in found:
        stack.setdefault(table[name].category, []).append(name)
    return {category: sorted(names) for category, names in sorted(stack.items())}


def wordpress_version(page: "Page") -> str | None:
    """From the generator meta, else the most common `?ver=` on core assets
    (`/wp-includes/`, whose version is WordPress's own, except bundled jQuery)."""
    for generator in page.meta_values("generator"):
        match = _WORDPRESS_GENERATOR.search(generator)
        if match:
            return match.group(1)
    versions: Counter[str] = Counter()
    for element in page.root.iter("script", "link"):
        url = element.get("src") or element.get("href") or ""
        if "/wp-includes/" not in url or "/jquery" in url:
            continue
        try:
            query = dict(parse_qsl(urlsplit(url).query))
        except ValueError:
            continue
        version = query.get("ver", "")
        if _VERSION.match(version):
            versions[version] += 1
    return versions.most_common(1)[0][0] if versions else None


def tracking_ids(page: "Page") -> dict[str, list[str]]:
    """Measurement and container ids: `ga4`, `gtm`, `universal_analytics`,
    `google_ads`, `facebook_pixel`; kinds with none are left out."""
    scripts = "\n".join(
        script.get("src") or script.text or "" for script in page.root.iter("script")
    )
    found: dict[str, set[str]] = {
        kind: set(pattern.findall(scripts)) for kind, pattern in _TRACKING_PATTERNS.items()
    }
    found["gtm"] = set(_GTM_ID.findall(page.html))
    found["facebook_pixel"] |= set(_FACEBOOK_PIXEL_IMAGE.findall(page.html))
    return {kind: sorted(ids) for kind, ids in sorted(found.items()) if ids}
