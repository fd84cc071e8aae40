"""Social profile links, canonicalized."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

from scrapersky.metadata.structured import as_list, iter_nodes

if TYPE_CHECKING:
    from scrapersky.metadata.document import HtmlDocument

# Host prefixes that do not change which profile a URL shows.
_STRIPPED_PREFIXES = ("www.", "m.", "mobile.", "web.")
_LOCALE_LABEL = re.compile(r"^[a-z]{2}(?:-[a-z]{2})?\.")
_TWITTER_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_INSTAGRAM_NAME = re.compile(r"^[A-Za-z0-9._]{1,30}$")
_TIKTOK_NAME = re.compile(r"^@[A-Za-z0-9._]{1,30}$")


def _facebook(
    segments: list[str], query: dict[str, str]
) -> tuple[list[str], dict[str, str]] | None:
    reserved = {
        "dialog",
        "events",
        "hashtag",
        "help",
        "home.php",
        "l.php",
        "login",
        "login.php",
        "permalink.php",
        "photo",
        "photo.php",
        "plugins",
        "policies",
        "privacy",
        "search",
        "share",
        "share.php",
        "sharer",
        "sharer.php",
        "story.php",
        "tr",
        "watch",
    }
    if segments[0].lower() in reserved:
        return None
    if segments[0].lower() == "profile.php":
        return (segments[:1], {"id": query["id"]}) if query.get("id") else None
    return segments, {}


def _twitter(segments: list[str], query: dict[str, str]) -> tuple[list[str], dict[str, str]] | None:
    reserved = {
        "compose",
        "explore",
        "hashtag",
        "home",
        "i",
        "intent",
        "login",
        "messages",
        "notifications",
        "privacy",
        "search",
        "settings",
        "share",
        "signup",
        "tos",
        "widgets",
    }
    handle = segments[0]
    if handle.lower() in reserved or not _TWITTER_HANDLE.match(handle) or "status" in segments[1:2]:
        return None
    return [handle], {}


def _linkedin(
    segments: list[str], query: dict[str, str]
) -> tuple[list[str], dict[str, str]] | None:
    kind = segments[0].lower()
    if kind == "pub" and len(segments) >= 2:
        # Old public profiles: /pub/name/1b/46a/324; the trailing id parts are the profile.
        return ["pub", *segments[1:5]], {}
    if len(segments) >= 2 and kind in {"company", "in", "school", "showcase"}:
        return [kind, segments[1]], {}
    return None


def _instagram(
    segments: list[str], query: dict[str, str]
) -> tuple[list[str], dict[str, str]] | None:
    reserved = {
        "about",
        "accounts",
        "developer",
        "direct",
        "explore",
        "legal",
        "p",
        "reel",
        "reels",
        "share",
        "stories",
        "tv",
    }
    name = segments[0]
    if name.lower() in reserved or not _INSTAGRAM_NAME.match(name):
        return None
    return [name], {}


def _youtube(segments: list[str], query: dict[str, str]) -> tuple[list[str], dict[str, str]] | None:
    if segments[0].startswith("@") and len(segments[0]) > 1:
        return segments[:1], {}
    if len(segments) >= 2 and segments[0].lower() in {"c", "channel", "user"}:
        return [segments[0].lower(), segments[1]], {}
    return None


def _tiktok(segments: list[str], query: dict[str, str]) -> tuple[list[str], dict[str, str]] | None:
    if _TIKTOK_NAME.match(segments[0]) and len(segments) == 1:
        return segments, {}
    return None


@dataclass(frozen=True)
class Platform:
    name: str
    hosts: frozenset[str]
    # Maps path segments and query to the profile's own, or None when the URL
    # is not a profile (share dialogs, posts, videos, help pages).
    profile: Callable[[list[str], dict[str, str]], tuple[list[str], dict[str, str]] | None]


PLATFORMS = (
    Platform("facebook", frozenset({"facebook.com", "fb.com"}), _facebook),
    Platform("twitter", frozenset({"twitter.com", "x.com"}), _twitter),
    Platform("linkedin", frozenset({"linkedin.com"}), _linkedin),
    Platform("instagram", frozenset({"instagram.com"}), _instagram),
    Platform("youtube", frozenset({"youtube.com"}), _youtube),
    Platform("tiktok", frozenset({"tiktok.com"}), _tiktok),
)


def _bare_host(host: str) -> str:
    for prefix in _STRIPPED_PREFIXES:
        if host.startswith(prefix):
            return host[len(prefix) :]
    return _LOCALE_LABEL.sub("", host, count=1) if host.count(".") >= 2 else host


def canonical_profile(url: str) -> tuple[str, str] | None:
    """`(platform, url)` for a link to a social profile: https, lowercase
    host without www./m./mobile., no tracking query, fragment or trailing
    slash; None for anything that is not a profile."""
    url = url.strip()
    if url.startswith("//"):
        url = "https:" + url
    elif "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = _bare_host(host)
    segments = [segment for segment in parts.path.split("/") if segment]
    if not segments:
        return None
    query = dict(parse_qsl(parts.query))
    for platform in PLATFORMS:
        if host not in platform.hosts:
            continue
        profile = platform.profile(segments, query)
        if profile is None:
            return None
        path, kept_query = profile
        suffix = f"?{urlencode(kept_query)}" if kept_query else ""
        return platform.name, f"https://{host}/{'/'.join(path)}{suffix}"
    return None


def _candidate_links(page: "HtmlDocument") -> Iterator[str]:
    for node in iter_nodes(page.json_ld):
        yield from (value for value in as_list(node.get("sameAs")) if isinstance(value, str))
    # The site's own account, as Twitter cards name it: "@handle" (or a profile URL).
    for value in page.meta_values("twitter:site"):
        handle = value.strip()
        if handle.startswith("@"):
            yield f"https://twitter.com/{handle[1:]}"
        elif "/" in handle:
            yield handle
    # Links inside embedded posts (blockquotes) point at other people's accounts.
    for href in page.root.xpath(
        "//a[@href][not(ancestor::blockquote)]/@href | //link[@rel='me']/@href"
    ):
        yield str(href)


def profiles(page: "HtmlDocument") -> dict[str, str | None]:
    """The first profile per platform, JSON-LD `sameAs` first, then links."""
    found: dict[str, str | None] = {platform.name: None for platform in PLATFORMS}
    for href in _candidate_links(page):
        profile = canonical_profile(href)
        if profile and found[profile[0]] is None:
            found[profile[0]] = profile[1]
    return found
