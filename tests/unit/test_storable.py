"""scrapersky.core.storable: any text in, text every database column can hold out."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from scrapersky.core.storable import storable, storable_text
from scrapersky.db.errors import is_transient
from scrapersky.db.normalize import json_safe

# Any code point, surrogates and NUL included (Hypothesis leaves surrogates out unless asked).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()))
NESTED = st.recursive(
    st.none() | st.booleans() | st.integers() | ANY_TEXT,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(ANY_TEXT, inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=20,
)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _postgres_would_take(text: str) -> bool:
    text.encode("utf-8")  # raises on a lone surrogate
    return "\x00" not in text


@given(ANY_TEXT)
def test_any_text_becomes_storable_and_clean_text_is_kept_as_it_is(text):
    out = storable_text(text)
    assert _postgres_would_take(out)
    assert storable_text(out) == out
    if _has_no_trouble(text):
        assert out is text


def _has_no_trouble(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@given(NESTED)
def test_nested_values_become_storable_through_keys_lists_and_tuples(value):
    out = storable(value)
    assert all(_postgres_would_take(s) for s in _strings(out))
    # jsonb refuses the \u0000 escape and a lone surrogate's escape: neither is left.
    encoded = json.dumps(json_safe(value))
    assert "\\u0000" not in encoded
    json.dumps(json_safe(value), ensure_ascii=False).encode("utf-8")


def test_what_changes():
    assert storable_text("a\x00b") == "ab"
    assert storable_text("half \ud800 a pair") == "half \ufffd a pair"
    assert storable_text("\udfff\ud800") == "\ufffd\ufffd"
    # Two surrogates side by side that spell a character are that character.
    assert storable_text("\ud83d\ude00") == "\U0001f600"
    assert storable({"k\x00": ["\ud800", ("x\x00", 1)], "n": None, "b": b"\x00"}) == {
        "k": ["\ufffd", ("x", 1)],
        "n": None,
        "b": b"\x00",  # bytes go to binary columns: any byte is fine there
    }


class _PgError(Exception):
    def __init__(self, pgcode):
        self.pgcode = pgcode


def test_only_transient_database_errors_are_worth_a_retry():
    def wrapped(kind, pgcode=None):
        return kind("INSERT ...", {}, _PgError(pgcode))

    assert not is_transient(wrapped(DataError, "22P05"))  # untranslatable character (NUL)
    assert not is_transient(wrapped(DataError))
    assert not is_transient(wrapped(IntegrityError, "23505"))
    assert not is_transient(wrapped(ProgrammingError, "42P01"))
    assert not is_transient(wrapped(OperationalError, "54000"))  # program limit: data-driven
    assert not is_transient(ValueError("A string literal cannot contain NUL (0x00) characters."))
    assert not is_transient(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    assert is_transient(wrapped(OperationalError, "40001"))  # serialization failure
    assert is_transient(wrapped(OperationalError, "40P01"))  # deadlock
    assert is_transient(wrapped(OperationalError, "57014"))  # statement timeout
    assert is_transient(wrapped(OperationalError, "08006"))  # connection failure
    assert is_transient(wrapped(OperationalError))  # SQLite: database is locked
