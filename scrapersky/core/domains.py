"""Standardize and validate domain names.

The stored form is lowercase ASCII (punycode for internationalized names), with
no scheme, userinfo, ``www.`` prefix, port, path, query, fragment or trailing dot.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import cache

import idna
import tldextract

from scrapersky.core.errors import BadInput
from scrapersky.core.messages import cut

MAX_INPUT_LENGTH = 2000
MAX_DOMAIN_LENGTH = 253
MAX_LABEL_LENGTH = 63
ALLOWED_SCHEMES = ("http", "https")

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# What follows "host:" when the colon introduces a port rather than a scheme.
_PORT_THEN_END = re.compile(r"\d*(?:[/?#\\]|$)")
_AUTHORITY_END = re.compile(r"[/?#\\]")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_LABEL_CHARS = re.compile(r"[a-z0-9-]*")
# Reserved for testing and documentation (RFC 2606, RFC 6761): never real sites, so accepted
# only when SCRAPERSKY_TEST_DOMAINS is set in the environment, as the test fixtures do.
RESERVED_TLDS = frozenset(("test", "example", "invalid", "localhost"))
TEST_DOMAINS_VARIABLE = "SCRAPERSKY_TEST_DOMAINS"
# Decimal, octal or hex parts: what URL parsers read as (parts of) an IPv4 address.
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


INVALID_PREFIX = (
    "invalid domain"  # how every InvalidDomain message, and so a failed job's error, begins
)


class InvalidDomain(BadInput):
    """A domain name that cannot be standardized; str() is a one-line reason."""

    def __init__(self, raw: object, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"{INVALID_PREFIX} {_shown(raw)}: {reason}")


def standardize_domain(raw: str) -> str:
    """Return the stored form of a domain given as a name, host:port or http(s) URL.

    Raises InvalidDomain for anything that is not a public-looking host name:
    IP addresses, single labels, emails, other schemes, malformed labels.
    """
    if not isinstance(raw, str):
        raise InvalidDomain(raw, f"expected text, got {type(raw).__name__}")
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidDomain(raw, f"longer than {MAX_INPUT_LENGTH} characters")
    text = raw.strip()
    if not text:
        raise InvalidDomain(raw, "empty")
    _check_characters(raw, text)
    host = _host_from(raw, text)
    return _validated(raw, _to_ascii(raw, host))


def _shown(raw: object) -> str:
    return repr(cut(raw if isinstance(raw, str) else repr(raw), 80, "..."))


def _check_characters(raw: str, text: str) -> None:
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zs", "Zl", "Zp"):
            raise InvalidDomain(raw, "contains spaces")
        if category == "Cc":
            raise InvalidDomain(raw, "contains control characters")
        if category == "Cs":
            raise InvalidDomain(raw, "contains invalid characters")


def _host_from(raw: str, text: str) -> str:
    """Strip scheme, userinfo, port, path, query and fragment; return the bare host."""
    has_authority_prefix = False
    match = _SCHEME.match(text)
    if match:
        rest = text[match.end() :]
        scheme = match.group(1).lower()
        if rest.startswith("//"):
            if scheme not in ALLOWED_SCHEMES:
                raise InvalidDomain(raw, f"unsupported scheme {scheme!r} (only http and https)")
            text = rest[2:]
            has_authority_prefix = True
        elif not _PORT_THEN_END.match(rest):
            if "@" in _AUTHORITY_END.split(text, maxsplit=1)[0]:
                raise InvalidDomain(raw, "looks like an email address, not a domain")
            if scheme in ALLOWED_SCHEMES:
                raise InvalidDomain(raw, f"malformed URL (expected {scheme}://host)")
            raise InvalidDomain(raw, f"unsupported scheme {scheme!r} (only http and https)")
    elif text.startswith("//"):
        text = text[2:]
        has_authority_prefix = True

    authority = _AUTHORITY_END.split(text, maxsplit=1)[0]
    if "@" in authority:
        if not has_authority_prefix:
            raise InvalidDomain(raw, "looks like an email address, not a domain")
        authority = authority.rpartition("@")[2]
    if authority.startswith("[") or authority.count(":") > 1:
        raise InvalidDomain(raw, "is an IP address, not a domain name")
    host, _, port = authority.partition(":")
    if port and (not port.isdigit() or not port.isascii() or int(port) > 65535):
        raise InvalidDomain(raw, f"invalid port {port!r}")
    if not host:
        raise InvalidDomain(raw, "no host name")
    return host


def _to_ascii(raw: str, host: str) -> str:
    """Lowercase ASCII form of host; internationalized labels become punycode."""
    if host.isascii():
        return host.lower()
    try:
        return _idna2008(host)
    except (ValueError, UnicodeError):
        pass
    # IDNA 2003 still reaches names IDNA 2008 disallows (symbols, emoji).
    try:
        return host.encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        raise InvalidDomain(raw, "not a valid internationalized domain name") from None


def _idna2008(host: str) -> str:
    mapped = idna.uts46_remap(host, std3_rules=True)
    labels = [
        label if label.isascii() else idna.alabel(label).decode("ascii")
        for label in mapped.split(".")
    ]
    return ".".join(labels)


def _validated(raw: str, host: str) -> str:
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise InvalidDomain(raw, "no host name")
    if len(host) > MAX_DOMAIN_LENGTH:
        raise InvalidDomain(raw, f"longer than {MAX_DOMAIN_LENGTH} characters")
    labels = host.split(".")
    for label in labels:
        _check_label(raw, label)
    if all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        raise InvalidDomain(raw, "is an IP address, not a domain name")
    if labels[-1].isdigit():
        raise InvalidDomain(raw, f"top-level label {labels[-1]!r} is numeric")
    while labels[0] == "www" and len(labels) > 1:
        labels.pop(0)
        if len(labels) < 2:
            raise InvalidDomain(raw, "nothing left but a top-level label after removing 'www.'")
    if len(labels) < 2:
        raise InvalidDomain(raw, "needs at least two labels, like example.com")
    host = ".".join(labels)
    _check_public_suffix(raw, host, labels[-1])
    return host


@cache
def _public_suffix_list() -> tldextract.TLDExtract:
    # The snapshot shipped with tldextract: never fetched, never cached on disk.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def _check_public_suffix(raw: str, host: str, tld: str) -> None:
    """A site's domain sits below a public suffix: not a suffix itself (co.uk, github.io), not
    under a top-level domain the public suffix list does not know."""
    parts = _public_suffix_list()(host)
    if not parts.suffix:
        if tld in RESERVED_TLDS and _test_domains_allowed():
            return
        raise InvalidDomain(raw, f"top-level domain {tld!r} is not on the public suffix list")
    if not parts.domain:
        raise InvalidDomain(raw, f"{parts.suffix!r} is a public suffix, not a site's domain")


def _test_domains_allowed() -> bool:
    return os.environ.get(TEST_DOMAINS_VARIABLE, "").strip().lower() in ("1", "true")


def _check_label(raw: str, label: str) -> None:
    if not label:
        raise InvalidDomain(raw, "has an empty label")
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidDomain(
            raw, f"label {_shown(label)} is longer than {MAX_LABEL_LENGTH} characters"
        )
    if not _LABEL_CHARS.fullmatch(label):
        bad = next(char for char in label if not _LABEL_CHARS.fullmatch(char))
        raise InvalidDomain(raw, f"contains invalid character {bad!r}")
    if not _LABEL.fullmatch(label):
        raise InvalidDomain(raw, f"label {label!r} starts or ends with a hyphen")
    if label.startswith("xn--") and not _is_punycode(label[4:]):
        raise InvalidDomain(raw, f"label {label!r} is not valid punycode")


def _is_punycode(encoded: str) -> bool:
    """True if encoded round-trips through punycode to a non-ASCII label."""
    try:
        decoded = encoded.encode("ascii").decode("punycode")
    except (UnicodeError, ValueError, IndexError, OverflowError):
        return False
    return (
        bool(decoded)
        and not decoded.isascii()
        and decoded.encode("punycode").decode("ascii") == encoded
    )
