"""Passwords never leave the process: every message that may carry a URL goes through redact()."""

from __future__ import annotations

import logging
import re

# scheme://user:password@ — the password part of any URL in a message.
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]*:)[^@/?#\s]*@")


def redact(text: object) -> str:
    """The text with every password inside a URL replaced by ***."""
    return _URL_PASSWORD.sub(r"\g<head>***@", str(text))


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
