"""scrapersky.core.messages: the one helper that shortens text to a limit, and what is built on it."""

import pytest

from scrapersky.core.domains import InvalidDomain, standardize_domain
from scrapersky.core.messages import MAX_MESSAGE_LENGTH, cut, excerpt, first_line


def test_cut_keeps_short_text_and_cuts_long_text_to_the_limit():
    assert cut("abc", 3) == "abc"
    assert cut("abcd", 3) == "abc"
    assert cut("x" * 1000) == "x" * MAX_MESSAGE_LENGTH


def test_a_mark_ends_only_cut_text_and_counts_in_the_limit():
    assert cut("abcdef", 6, "...") == "abcdef"
    assert cut("abcdefg", 6, "...") == "abc..."
    assert len(cut("y" * 500, 80, "...")) == 80


def test_first_line_and_excerpt_are_cut_the_same_way():
    assert first_line("\n  " + "z" * 400 + "\nsecond") == "z" * MAX_MESSAGE_LENGTH
    assert excerpt("q" * 100) == "q" * 77 + "..."


def test_a_long_bad_domain_is_shown_cut_with_a_mark():
    raw = "not a domain " * 20
    with pytest.raises(InvalidDomain) as caught:
        standardize_domain(raw)
    assert repr(cut(raw, 80, "...")) in str(caught.value)
