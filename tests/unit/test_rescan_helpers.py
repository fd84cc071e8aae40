"""Pure helpers of rescans and their history: dates given by users, JSON of stored listings, the bench churn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.site import CHURN_EVERY, churned
from scrapersky.config import ConfigError, to_datetime
from scrapersky.db.bulk import _json_listing, _sqlite_stamp
from scrapersky.db.store import _plain


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        ("2026-11-30T08:15", datetime(2026, 11, 30, 8, 15, tzinfo=UTC)),
        ("2026-11-30T08:15:00+02:00", datetime(2026, 11, 30, 6, 15, tzinfo=UTC)),
        (" 2026-11-30 08:15:00.5 ", datetime(2026, 11, 30, 8, 15, 0, 500000, tzinfo=UTC)),
    ],
)
def test_dates_are_iso_and_utc_unless_they_say_otherwise(text, expected):
    assert to_datetime(text, "--since") == expected


@pytest.mark.parametrize("text", ["yesterday", "30/11/2026", "", "2026-13-01"])
def test_other_dates_are_one_line_errors(text):
    with pytest.raises(ConfigError, match="--since must be an ISO date"):
        to_datetime(text, "--since")


def test_stored_sqlite_listings_read_as_the_json_postgresql_records():
    stored = {
        "lastmod": "2024-03-05 08:20:30.000000",
        "changefreq": "weekly",
        "priority": 0.7,
        "alternates": '[{"hreflang":"de","href":"http://x.test/de"}]',
        "images": None,
        "news": '{"title":"T"}',
    }
    assert _json_listing(stored) == {
        "lastmod": "2024-03-05T08:20:30+00:00",
        "changefreq": "weekly",
        "priority": 0.7,
        "alternates": [{"hreflang": "de", "href": "http://x.test/de"}],
        "images": None,
        "news": {"title": "T"},
    }
    assert _sqlite_stamp(datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) == "2026-11-30 09:00:00.000000"


def test_metadata_values_compare_as_json_with_empty_as_nothing():
    assert _plain([]) == _plain(None) == _plain("") == _plain({})
    assert _plain({"b": 1, "a": [2]}) == _plain({"a": [2], "b": 1})
    assert _plain(["x@y.test"]) != _plain(["x@y.test", "z@y.test"])
    assert _plain(False) != _plain(True)


def test_the_bench_churn_is_two_percent_of_each_kind():
    fates = [churned(i) for i in range(10 * CHURN_EVERY)]
    assert fates.count("removed") == fates.count("relisted") == 10
    assert fates.count("kept") == 10 * CHURN_EVERY - 20
