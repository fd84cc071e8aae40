"""Technology detection from the fingerprint table, and tracking ids."""

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from scrapersky.metadata.document import HtmlDocument

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
_REGEX_SYNTAX = frozenset(".^$*+?{}[]|()\\")


def _lowercase_pattern(pattern: str) -> str:
    """`pattern` for lowercased text: literals lowercased, escapes (`\\D`,
    `\\S`, `\\W`) kept, so searches need no IGNORECASE, which would disable
    the regex engine's fast literal scan."""
    out: list[str] = []
    escaped = False
    for char in pattern:
        out.append(char if escaped else char.lower())
        escaped = char == "\\" and not escaped
    return "".join(out)


def _has_top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


def required_literal(pattern: str) -> str:
    """A substring every match contains: the literal text the pattern starts
    with (after a leading `\\b`); '' when there is none."""
    if _has_top_level_alternation(pattern):
        return ""
    index = 2 if pattern.startswith("\\b") else 0
    literal: list[str] = []
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            following = pattern[index + 1 : index + 2]
            if not following or following.isalnum():
                break
            literal.append(following)
            index += 2
        elif char in _REGEX_SYNTAX:
            break
        else:
            literal.append(char)
            index += 1
    # An optional quantifier makes the last character optional.
    if index < len(pattern) and pattern[index] in "?*{" and literal:
        literal.pop()
    return "".join(literal)


@dataclass(frozen=True)
class Matcher:
    """A case-insensitive regex run on lowercased text, skipped outright
    when the literal it needs is absent (a plain substring test is far
    cheaper than a regex starting with `\\b`)."""

    regex: re.Pattern[str]
    literal: str

    @classmethod
    def compile(cls, pattern: str) -> "Matcher":
        lowered = _lowercase_pattern(pattern)
        return cls(re.compile(lowered), required_literal(lowered))

    def search(self, lowered_text: str) -> bool:
        if self.literal and self.literal not in lowered_text:
            return False
        return self.regex.search(lowered_text) is not None


@dataclass(frozen=True)
class Fingerprint:
    name: str
    category: str
    generator: tuple[Matcher, ...] = ()
    script_src: tuple[Matcher, ...] = ()
    html: tuple[Matcher, ...] = ()
    headers: tuple[tuple[str, Matcher], ...] = ()
    cookies: tuple[Matcher, ...] = ()
    implies: tuple[str, ...] = ()
    script_version: tuple[re.Pattern[str], ...] = ()  # group 1 is the version


def _compile(patterns: list[str]) -> tuple[Matcher, ...]:
    return tuple(Matcher.compile(pattern) for pattern in patterns)


def _fingerprint(entry: dict[str, Any]) -> Fingerprint:
    return Fingerprint(
        name=entry["name"],
        category=entry["category"],
        generator=_compile(entry.get("generator", [])),
        script_src=_compile(entry.get("script_src", [])),
        html=_compile(entry.get("html", [])),
        headers=tuple(
            (name.lower(), Matcher.compile(pattern))
            for name, pattern in entry.get("headers", {}).items()
        ),
        cookies=_compile(entry.get("cookies", [])),
        implies=tuple(entry.get("implies", [])),
        script_version=tuple(
            re.compile(_lowercase_pattern(pattern)) for pattern in entry.get("script_version", [])
        ),
    )


@lru_cache(maxsize=1)
def fingerprints() -> tuple[Fingerprint, ...]:
    """The fingerprint table shipped in the package, compiled once."""
    text = resources.files(__package__).joinpath(FINGERPRINTS_FILE).read_text(encoding="utf-8")
    return tuple(_fingerprint(entry) for entry in json.loads(text)["technologies"])


@dataclass(frozen=True)
class Evidence:
    """What fingerprints are matched against, lowercased, gathered once per page."""

    html: str
    script_src: str
    generators: tuple[str, ...]
    headers: dict[str, str]

    @classmethod
    def of(cls, page: "HtmlDocument") -> "Evidence":
        return cls(
            html=page.html.lower(),
            script_src="\n".join(script_sources(page)).lower(),
            generators=tuple(value.lower() for value in page.meta_values("generator")),
            headers={name: value.lower() for name, value in page.headers.items()},
        )


# Where a script's address is: src, or the attribute a plugin that delays scripts until the
# visitor's first interaction moves it to (WP Rocket's data-rocket-src, LiteSpeed Cache's data-src).
_SCRIPT_SOURCES = ("src", "data-rocket-src", "data-src")


def script_sources(page: "HtmlDocument") -> list[str]:
    """The address of every `<script>`, in document order."""
    return [
        value
        for script in page.root.iter("script")
        for name in _SCRIPT_SOURCES
        if (value := script.get(name))
    ]


def _matches(fingerprint: Fingerprint, evidence: Evidence) -> bool:
    if any(m.search(value) for m in fingerprint.generator for value in evidence.generators):
        return True
    if evidence.script_src and any(m.search(evidence.script_src) for m in fingerprint.script_src):
        return True
    for name, matcher in fingerprint.headers:
        value = evidence.headers.get(name)
        if value is not None and matcher.search(value):
            return True
    cookies = evidence.headers.get("set-cookie", "")
    if cookies and any(m.search(cookies) for m in fingerprint.cookies):
        return True
    return any(m.search(evidence.html) for m in fingerprint.html)


def detect(page: "HtmlDocument") -> dict[str, list[str]]:
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


def versions(page: "HtmlDocument", stack: dict[str, list[str]]) -> dict[str, str]:
    """`{name: version}` for the detected technologies whose script address says their version
    (`jquery-3.6.0.min.js`, `/jquery/3.5.1/jquery.min.js`, `jquery@3.7.1`, WordPress's
    `/wp-includes/js/jquery/jquery.min.js?ver=3.7.1`); the first script that says one wins."""
    detected = {name for names in stack.values() for name in names}
    sources = [source.lower() for source in script_sources(page)]
    found: dict[str, str] = {}
    for fingerprint in fingerprints():
        if fingerprint.name not in detected:
            continue
        for source in sources:
            match = next(filter(None, (p.search(source) for p in fingerprint.script_version)), None)
            if match is not None:
                found[fingerprint.name] = match.group(1)
                break
    return dict(sorted(found.items()))


def wordpress_version(page: "HtmlDocument") -> str | None:
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


def tracking_ids(page: "HtmlDocument") -> dict[str, list[str]]:
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
