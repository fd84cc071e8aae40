"""Passwords never leave the process: every message that may carry a URL goes through redact().

A URL is parsed as a lenient reader would, not matched by a pattern of what a password may hold:
after `scheme://`, the user information runs to the LAST `@` of the URL's unbroken text (a
password may hold `/`, `?`, `#`, `:` or `@` that its writer forgot to percent-encode, and a
database driver may still take it), and everything between its first `:` and that `@` is the
password. When in doubt this hides too much (`http://host:80/a@b` loses `80/a`), never too little.
Limit: a password holding white space, or the pieces of one that a driver split differently and
quotes without the URL around them (a host name "ss" from `user:p@ss@host`), are not recognised.
"""

from __future__ import annotations

import logging
import re

# A URL: its scheme, then its unbroken text (up to white space or a quote around it).
_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<rest>[^\s'\"<>]*)")


def redact(text: object) -> str:
    """The text with the password of every URL in it replaced by ***."""
    return _URL.sub(_without_password, str(text))


def _without_password(match: re.Match[str]) -> str:
    rest = match["rest"]
    userinfo, at, after = rest.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not at or not colon:
        return match[0]
    return f"{match['scheme']}{user}:***@{after}"


class RedactingFilter(logging.Filter):
    """Redacts a record's message and traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def redact_logs() -> None:
    """Add the filter to every handler of the root logger (where Scrapy's handler lives)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
