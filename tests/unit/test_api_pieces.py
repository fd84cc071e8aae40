"""Pure pieces of the HTTP API: password redaction, id parsing, excerpts of rejected input."""

from __future__ import annotations

import logging
import sys

import pytest

from scrapersky.config import ConfigError, to_origins
from scrapersky.core.messages import excerpt
from scrapersky.core.redact import RedactingFilter, redact
from scrapersky.db.jobs import integer_id, plain_id


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql+psycopg2://u:TopSecret@db:5432/x", "postgresql+psycopg2://u:***@db:5432/x"),
        (
            "error at 'http://a:b@c/' and https://d:e@f",
            "error at 'http://a:***@c/' and https://d:***@f",
        ),
        ("sqlite:////var/lib/x.db", "sqlite:////var/lib/x.db"),
        ("postgresql://nobody@host/db", "postgresql://nobody@host/db"),
        ("postgresql://:only-password@host/db", "postgresql://:***@host/db"),
    ],
)
def test_redact_hides_passwords_in_urls(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize("password", ["a/b", "a?b", "a#b", "a@b", "p@ss/w?o#r:d", "/?#@", "x@"])
@pytest.mark.parametrize(
    "around",
    [
        "{url}",
        "error at '{url}'",
        'url="{url}", next',
        "Could not parse {url}\nline two",
        "({url})",
    ],
)
def test_redact_parses_urls_whose_password_holds_url_delimiters(password, around):
    url = f"postgresql+psycopg2://scanner:{password}@db.internal:5432/scrapersky?sslmode=require"
    shown = redact(around.format(url=url))
    assert password not in shown
    assert "postgresql+psycopg2://scanner:***@db.internal:5432/scrapersky?sslmode=require" in shown


def test_log_records_are_redacted_with_their_tracebacks():
    try:
        raise ValueError("cannot connect to " + "postgresql://u:TopSecret@db/x")
    except ValueError:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "url %s",
            ("postgresql://u:TopSecret@db/x",),
            exc_info=sys.exc_info(),
        )
    RedactingFilter().filter(record)
    shown = logging.Formatter().format(record)
    assert shown.startswith("url postgresql://u:***@db/x\nTraceback")
    assert (
        "ValueError: cannot connect to postgresql://u:***@db/x" in shown
        and "TopSecret" not in shown
    )


@pytest.mark.parametrize(
    ("ident", "number"),
    [
        ("1", 1),
        ("42", 42),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("0", None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("1e3", None),
        ("", None),
    ],
)
def test_integer_ids_are_ascii_digits_within_bigint(ident, number):
    assert integer_id(ident) == number


@pytest.mark.parametrize("ident", ["", "   ", "a\x00b", "x" * 101, "line\nbreak", "\u202eabc"])
def test_what_cannot_be_an_id_is_none(ident):
    assert plain_id(ident) is None


def test_excerpts_are_short_printable_ascii():
    shown = excerpt("ab\x1b[31m\u202e" + "é" * 200)
    assert (
        len(shown) <= 80
        and shown.isascii()
        and shown.isprintable()
        and shown.startswith("ab\\x1b[31m\\u202e")
    )


def test_cors_origins_are_exact_origins():
    assert to_origins("https://App.example.com, http://localhost:3000") == {
        "https://app.example.com",
        "http://localhost:3000",
    }
    assert to_origins("") == frozenset()
    for bad in (
        "*",
        "https://*.example.com",
        "app.example.com",
        "https://example.com/path",
        "ftp://x",
    ):
        with pytest.raises(ConfigError):
            to_origins(bad)
