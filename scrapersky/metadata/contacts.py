"""Email addresses and phone numbers."""

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import unquote

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumberFormat, PhoneNumberMatcher

from scrapersky.metadata.structured import as_list, iter_nodes

if TYPE_CHECKING:
    from scrapersky.metadata.document import HtmlDocument

MAX_EMAILS = 20
MAX_PHONES = 10
# Phone matching is the slowest step, so it only sees distinct lines that
# hold enough digits to be a number, up to a bound.
_MIN_PHONE_DIGITS = 5
_MAX_PHONE_TEXT = 100_000

_EMAIL = re.compile(
    r"(?<![\w.%+-])[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])",
    re.IGNORECASE,
)
_VALID_EMAIL = re.compile(
    r"^[a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9_%+-])?@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$"
)
# "Domains" that are really file names: logo@2x.png, jquery@3.7.1.min.js.
_FILE_SUFFIXES = frozenset(
    {
        "avif",
        "bmp",
        "css",
        "gif",
        "heic",
        "ico",
        "jpeg",
        "jpg",
        "js",
        "json",
        "map",
        "mp3",
        "mp4",
        "pdf",
        "png",
        "svg",
        "tif",
        "tiff",
        "ts",
        "webm",
        "webp",
        "woff",
        "woff2",
        "xml",
    }
)
_RESERVED_SUFFIXES = frozenset({"example", "invalid", "local", "localhost", "test"})
_PLACEHOLDER_DOMAINS = frozenset(
    {
        "domain.com",
        "email.com",
        "example.com",
        "example.net",
        "example.org",
        "mydomain.com",
        "yourcompany.com",
        "yourdomain.com",
        "yoursite.com",
        "yourwebsite.com",
    }
)
_PLACEHOLDER_LOCALS = frozenset(
    {
        "email",
        "name",
        "user",
        "username",
        "you",
        "your",
        "your-email",
        "your.email",
        "your.name",
        "youremail",
        "yourname",
        "someone",
        "firstname.lastname",
        "john.doe",
        "johndoe",
        "jane.doe",
    }
)
# Error-reporting ingest addresses embedded in scripts (Sentry, Wix).
_INGEST_DOMAINS = ("sentry.io", "wixpress.com")
_CLOUDFLARE_PATH = "/cdn-cgi/l/email-protection#"


def clean_email(raw: str) -> str | None:
    """A lowercase address, or None for placeholders, file names and
    machine addresses."""
    email = unquote(raw).strip().lower().removeprefix("mailto:").split("?")[0].strip()
    if not _VALID_EMAIL.match(email) or ".." in email:
        return None
    local, _, domain = email.partition("@")
    suffix = domain.rsplit(".", 1)[-1]
    if suffix in _FILE_SUFFIXES or suffix in _RESERVED_SUFFIXES:
        return None
    if domain in _PLACEHOLDER_DOMAINS or local in _PLACEHOLDER_LOCALS:
        return None
    if any(domain == ingest or domain.endswith("." + ingest) for ingest in _INGEST_DOMAINS):
        return None
    return email


def decode_cloudflare_email(encoded: str) -> str | None:
    """Undo Cloudflare's email obfuscation: hex bytes XORed with the first."""
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    return bytes(byte ^ key for byte in data[1:]).decode("utf-8", "replace")


def _email_candidates(page: "HtmlDocument") -> Iterator[str]:
    for element in page.root.iter("a", "area"):
        href = (element.get("href") or "").strip()
        if href[:7].lower() == "mailto:":
            yield from href[7:].split("?")[0].split(",")
        elif _CLOUDFLARE_PATH in href:
            decoded = decode_cloudflare_email(href.split(_CLOUDFLARE_PATH, 1)[1])
            if decoded:
                yield decoded
    for element in page.root.xpath("//*[@data-cfemail]"):
        decoded = decode_cloudflare_email(element.get("data-cfemail"))
        if decoded:
            yield decoded
    for node in iter_nodes(page.json_ld):
        yield from (value for value in as_list(node.get("email")) if isinstance(value, str))
    text_lines = (line for line in page.visible_text.splitlines() if "@" in line)
    yield from _EMAIL.findall("\n".join(text_lines))


def _first_unique(values: Iterable[str | None], limit: int) -> list[str]:
    found: dict[str, None] = {}
    for value in values:
        if value and value not in found:
            found[value] = None
            if len(found) == limit:
                break
    return list(found)


def emails(page: "HtmlDocument") -> list[str]:
    """Addresses from mailto links, Cloudflare-protected links, JSON-LD and
    the visible text, in that order; deduplicated, at most MAX_EMAILS."""
    return _first_unique((clean_email(raw) for raw in _email_candidates(page)), MAX_EMAILS)


def parse_phone(raw: str, region: str) -> str | None:
    """E.164 form of `raw` when it is a valid number; national formats are
    read as numbers of `region`, and a leading 00 as the international
    prefix when it is not a valid number of `region` (00 is the prefix in
    most of the world, though not in the US)."""
    number = _valid_number(raw, region)
    if number is None and raw.lstrip().startswith("00"):
        number = _valid_number("+" + raw.lstrip()[2:], region)
    return None if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _valid_number(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


# Words that say the number after them is a phone number, in the languages of the sites seen.
_PHONE_LABEL = re.compile(
    r"(?:\b(?:tel|tél|téléphone|phone|telephone|telefon|telefonnummer|rufnummer|festnetz|telefax|telefone|"
    r"teléfono|telefono|telf|fon|fone|mobil|mobile|"
    r"mob|cell|handy|hotline|call|ring|office|ruf|anruf|fax|whatsapp|kontakt|contact|zentrale|gsm|t)\b\.?|[☎📞✆☏])"
    r"[^\d+(\n]{0,12}$",
    re.IGNORECASE,
)
# Layouts only phone numbers have: an area code in brackets, "(415) 555-0132"; or three or more
# digit groups split by spaces or dashes alone, "020 7946 0958". Dates use dots, file numbers slashes.
_ANY_LABEL = re.compile(r"[^\W\d_]{2,}:\s*$")
_PLAIN_GROUPS = re.compile(r"\d+(?:[ -]\d+)*$")
_PHONE_LAYOUT = re.compile(r"\(\d{2,5}\)[ -]?\d|\d+(?:[ -]\d+){2,}$")


def _looks_like_phone(text: str, start: int, raw: str) -> bool:
    """Digits in running text are a phone number only with evidence: written in international
    form (+…), laid out as only phone numbers are, or after a label such as "Tel." on the same
    line. Dates ("06.10.2017 11"), file numbers ("ds 16/9588") and prices parse too."""
    raw = raw.strip()
    if raw.startswith("+") or _PHONE_LAYOUT.match(raw):
        return True
    if _PHONE_LABEL.search(text, max(0, start - 40), start):
        return True
    # "Reservierung: 01 5123456": any label, when the digits are grouped only by spaces or dashes.
    return (
        _ANY_LABEL.search(text, max(0, start - 40), start) is not None
        and _PLAIN_GROUPS.match(raw) is not None
    )


def _phone_candidates(page: "HtmlDocument", region: str) -> Iterator[str | None]:
    for element in page.root.iter("a", "area"):
        href = (element.get("href") or "").strip()
        scheme, _, number = href.partition(":")
        if scheme.lower() in ("tel", "callto") and number:
            yield parse_phone(unquote(number).split(";")[0], region)
    for node in iter_nodes(page.json_ld):
        for value in as_list(node.get("telephone")):
            if isinstance(value, str):
                yield parse_phone(value, region)
    text = phone_text(page.visible_text)
    for match in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
        if _looks_like_phone(text, match.start, match.raw_string):
            yield phonenumbers.format_number(match.number, PhoneNumberFormat.E164)


def phone_text(text: str) -> str:
    """The distinct lines of `text` that could hold a phone number. A line that is only a phone
    label ("Telefon:", "Tel." in the table cell, `<dt>` or element before the number) is put in
    front of the next non-blank line, so that it is the label of the number there."""
    lines: dict[str, None] = {}
    digits: dict[str, int] = {}  # pages repeat lines: count each distinct one once
    before = ""  # the last non-blank line
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        count = digits.get(line)
        if count is None:
            count = digits[line] = sum(char.isdigit() for char in line)
        if count >= _MIN_PHONE_DIGITS:
            labelled = digits.get(before) == 0 and _is_label_line(before)
            lines[f"{before} {line}" if labelled else line] = None
        before = line
    return "\n".join(lines)[:_MAX_PHONE_TEXT]


_LABEL_LINE_MAX = 40


def _is_label_line(line: str) -> bool:
    """A short line ending in a phone label: "Telefon:", "Tel.", "Phone", "☎"."""
    return len(line) <= _LABEL_LINE_MAX and _PHONE_LABEL.search(line) is not None


def phones(page: "HtmlDocument", region: str) -> list[str]:
    """Valid numbers from tel links, JSON-LD and the visible text (labelled or
    international there), in E.164, deduplicated, at most MAX_PHONES."""
    return _first_unique(_phone_candidates(page, region), MAX_PHONES)
