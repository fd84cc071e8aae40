"""Every documented setting is checked before anything runs: a bad value is one line and exit 2,
from `-s` or from the environment, and nothing is written.

The table of bad values runs every command inside the test process (tests.support.in_process),
from `-s` and from the environment; real `scrapy` processes, one per command and one for the
environment, prove that the `scrapy` executable gets the same line and exit code."""

from __future__ import annotations

import pytest

from scrapersky.config.specs import SETTINGS
from tests.conftest import migrated_postgres, scrapy, scrapy_env
from tests.support.db import scalar
from tests.support.in_process import run_command

# Scrapy's tuning values come from -s only; the other declared settings also from the environment.
SCRAPY_ONLY = {setting.name for setting in SETTINGS if not setting.env}
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
        "SCRAPERSKY_MAX_API_REQUEST_BYTES",
        "100",
        "SCRAPERSKY_MAX_API_REQUEST_BYTES must be >= 1024, got 100",
    ),
    ("SCRAPERSKY_MAX_BATCH_SLOTS", "0", "SCRAPERSKY_MAX_BATCH_SLOTS must be >= 1, got 0"),
    ("SCRAPERSKY_MAX_RETRIES", "-1", "SCRAPERSKY_MAX_RETRIES must be >= 0, got -1"),
    (
        "SCRAPERSKY_ALLOWED_HOSTS",
        "node1.internal,*.example.com",
        "SCRAPERSKY_ALLOWED_HOSTS must list host names like node1.example.com, got '*.example.com'",
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
    *(
        ("SCRAPERSKY_ALLOWED_NETWORKS", value, f"SCRAPERSKY_ALLOWED_NETWORKS: {message}")
        for value, message in [
            ("10.1.2.3/8", "'10.1.2.3/8' has host bits set (the network is 10.0.0.0/8)"),
            ("10.0.0.0/33", "'10.0.0.0/33' is not a network like 10.1.2.0/24"),
            *(
                (
                    value,
                    f"{reason}; set SCRAPERSKY_ALLOW_DANGEROUS_NETWORKS=true to allow it anyway",
                )
                for value, reason in [
                    ("0.0.0.0/0", "'0.0.0.0/0' contains loopback addresses (127.0.0.0/8)"),
                    (
                        "10.1.0.0/16,169.254.169.254/32",
                        "'169.254.169.254/32' contains link-local addresses (169.254.0.0/16)",
                    ),
                    ("0.0.0.0/32", "'0.0.0.0/32' contains unspecified addresses (0.0.0.0/8)"),
                    (
                        "::ffff:127.0.0.1/128",
                        "'::ffff:127.0.0.1/128' contains loopback addresses (::ffff:7f00:0/104)",
                    ),
                    ("192.0.0.0/3", "'192.0.0.0/3' is wider than /8"),
                ]
            ),
        ]
    ),
]
WAYS = [
    pytest.param(row, way, id=f"{row[0]}-{way}")
    for row in BAD
    for way in ("-s", "env")
    if not (way == "env" and row[0] in SCRAPY_ONLY)
]
# Nothing may be contacted if a check is missed: no Scrapyd node listens on the discard port.
NO_NODE = "http://127.0.0.1:9"


def commands(tmp_path) -> dict[str, tuple[str, ...]]:
    listing = tmp_path / "domains.txt"
    listing.write_text("shop1.test\n")
    return {
        "crawl": ("crawl", "sitemap", "-a", "domain=shop1.test"),
        "status": ("status",),
        "keys list": ("keys", "list"),
        "batch": ("batch", str(listing)),
        "migrate": ("migrate",),
    }


@pytest.mark.parametrize(("row", "way"), WAYS)
def test_a_bad_setting_stops_every_command_in_one_line(tmp_path, row, way):
    name, value, message = row
    database = tmp_path / "scrapersky.db"
    env = scrapy_env(f"sqlite:///{database}", SCRAPYD_URLS=NO_NODE)
    extra: tuple[str, ...] = ()
    if way == "-s":
        extra = ("-s", f"{name}={value}")
    else:
        env[name] = value
    for command in commands(tmp_path).values():
        result = run_command(*command, *extra, env=env)
        assert (result.returncode, result.stderr, result.stdout) == (
            2,
            f"error: {message}\n",
            "",
        ), command
    assert not database.exists()  # no command got as far as its database


@pytest.fixture(scope="module")
def pg():
    yield from migrated_postgres()


# One real process per command, each with another row of the table, through `-s`.
PROCESSES = [
    ("crawl", BAD[1]),
    ("status", BAD[0]),
    ("keys list", BAD[2]),
    ("batch", BAD[3]),
    ("migrate", BAD[4]),
]


@pytest.mark.postgres
@pytest.mark.parametrize(("command", "row"), PROCESSES, ids=[p[0] for p in PROCESSES])
def test_the_scrapy_executable_stops_each_command_in_one_line(pg, tmp_path, command, row):
    name, value, message = row
    env = scrapy_env(pg, SCRAPYD_URLS=NO_NODE)
    result = scrapy(*commands(tmp_path)[command], "-s", f"{name}={value}", env=env, timeout=60)
    assert (result.returncode, result.stderr) == (2, f"error: {message}\n"), result.stderr[-2000:]
    assert scalar(pg, "select count(*) from jobs") == 0
    assert scalar(pg, "select count(*) from batch_jobs") == 0


@pytest.mark.postgres
def test_the_scrapy_executable_reads_a_bad_setting_from_the_environment(pg, tmp_path):
    name, value, message = BAD[5]
    env = scrapy_env(pg, SCRAPYD_URLS=NO_NODE, **{name: value})
    result = scrapy(*commands(tmp_path)["crawl"], env=env, timeout=60)
    assert (result.returncode, result.stderr) == (2, f"error: {message}\n"), result.stderr[-2000:]
    assert scalar(pg, "select count(*) from jobs") == 0
    assert scalar(pg, "select count(*) from batch_jobs") == 0
