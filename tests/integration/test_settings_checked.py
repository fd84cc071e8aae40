"""Every documented setting is checked before anything runs: a bad value is one line and exit 2,
from `-s` or from the environment, and nothing is written."""

from __future__ import annotations

import pytest

from tests.conftest import scrapy, scrapy_env
from tests.support.db import scalar

# Scrapy's own settings come from -s only; ScraperSky's (and the ones the README lists) also from the environment.
SCRAPY_ONLY = {"CONCURRENT_REQUESTS"}
BAD = [
    ("DOWNLOAD_MAXSIZE", "lots", "DOWNLOAD_MAXSIZE must be an integer, got 'lots'"),
    ("CONCURRENT_REQUESTS", "0", "CONCURRENT_REQUESTS must be >= 1, got 0"),
    ("SCRAPERSKY_PENDING_AFTER", "-5", "SCRAPERSKY_PENDING_AFTER must be >= 1, got -5"),
    (
        "SCRAPERSKY_MAX_REQUEST_BYTES",
        "big",
        "SCRAPERSKY_MAX_REQUEST_BYTES must be an integer, got 'big'",
    ),
    (
        "SCRAPERSKY_CORS_ORIGINS",
        "*",
        "SCRAPERSKY_CORS_ORIGINS must list origins like https://app.example.com, got '*'",
    ),
    (
        "LOG_LEVEL",
        "LOUD",
        "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
    ),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[case[0] for case in BAD])
def test_a_bad_setting_stops_every_command_in_one_line(
    database_url, tmp_path, name, value, message
):
    listing = tmp_path / "domains.txt"
    listing.write_text("shop1.test\n")
    commands = [
        ("crawl", "sitemap", "-a", "domain=shop1.test"),
        ("status",),
        ("keys", "list"),
        ("batch", str(listing)),
        ("migrate",),
    ]
    for command in commands:
        ways = [(scrapy_env(database_url), ("-s", f"{name}={value}"))]
        if name not in SCRAPY_ONLY:
            ways.append((scrapy_env(database_url, **{name: value}), ()))
        for env, extra in ways:
            result = scrapy(*command, *extra, env=env, timeout=60)
            assert (result.returncode, result.stderr) == (2, f"error: {message}\n"), (
                command,
                result.stderr[-2000:],
            )
    assert scalar(database_url, "select count(*) from jobs") == 0
    assert scalar(database_url, "select count(*) from batch_jobs") == 0
