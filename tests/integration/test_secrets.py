"""A password in DATABASE_URL never appears in any output: commands' stdout and stderr, logs,
stored stats and results, and every answer and error of the HTTP API, with the database
reachable, unreachable, or the URL malformed.

Commands that only answer (status, migrate, keys) run inside the test process
(tests.support.in_process), watched everywhere a real process could show something: their
sys.stdout and sys.stderr, the file descriptors 1 and 2 underneath (C code, a stray
sys.__stderr__), every log record at any level, and every warning. `scrapy crawl`, the command
each Scrapyd run is, stays a real process for every broken URL and for the working database."""

from __future__ import annotations

import logging
import warnings

import pytest

from scrapersky.db import keys
from scrapersky.db.engine import in_transaction
from tests.conftest import migrated_postgres, scrapy, scrapy_env
from tests.support.db import rows
from tests.support.fixture_web import demo_site
from tests.support.in_process import run_command
from tests.support.scrapyd_nodes import Bearer, stop_all

PASSWORD = "TopSecretDbPw"
BROKEN = {
    "unreachable": f"postgresql+psycopg2://scanner:{PASSWORD}@127.0.0.1:1/scrapersky",
    "unknown host": f"postgresql+psycopg2://scanner:{PASSWORD}@db.nonexistent.invalid/scrapersky",
    "malformed": f"postgresql+psycopg2://scanner:{PASSWORD}@127.0.0.1:notaport/scrapersky",
    # A password holding URL delimiters, not percent-encoded: a pattern of what a password may
    # hold stopped at the first of them; parsing finds the whole.
    "delimiters": f"postgresql+psycopg2://scanner:{PASSWORD}/?#@x@127.0.0.1:1/scrapersky",
}
CRAWL = ("crawl", "sitemap", "-a", "domain=shop1.test")
COMMANDS = [
    ("status",),
    ("status", "1"),
    ("migrate",),
    ("keys", "list"),
    CRAWL,
]


def with_password(url: str) -> str:
    """The same database, with a password the server (trust auth) ignores."""
    return url.replace(
        "postgresql+psycopg2://postgres@", f"postgresql+psycopg2://postgres:{PASSWORD}@"
    )


@pytest.fixture
def command(capfd, caplog):
    """command(*argv, env=...) -> (Result, what it showed): a real `scrapy` process for a crawl,
    else the command in this process, with what it wrote anywhere besides its stdout and stderr."""

    def run(*argv: str, env: dict[str, str]):
        if argv[0] == "crawl":
            result = scrapy(*argv, env=env)
            return result, result.stdout + result.stderr
        capfd.readouterr()
        caplog.clear()
        with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_command(*argv, env=env)
        written = capfd.readouterr()
        shown = [result.stdout, result.stderr, written.out, written.err, caplog.text]
        shown += [f"{w.category.__name__}: {w.message}" for w in caught]
        return result, "\n".join(shown)

    return run


@pytest.fixture
def sites(web):
    demo_site(web, "shop1.test")
    return web


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_commands_never_print_the_password_of_a_broken_database(case, command):
    env = scrapy_env(BROKEN[case])
    for argv in COMMANDS:
        result, shown = command(*argv, env=env)
        assert result.returncode != 0, argv
        assert PASSWORD not in shown, (argv, shown)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, (
            result.stderr
        )


def test_nothing_shows_the_password_of_a_working_database(
    postgres_server, scrapyd, sites, tmp_path, command
):
    for plain in migrated_postgres():
        url = with_password(plain)
        env = scrapy_env(url, sites, LOG_LEVEL="DEBUG")
        outputs = []
        for argv in (
            ("migrate",),
            (*CRAWL, "-a", "max_pages=2"),
            ("status", "--json"),
            ("status", "1"),
            ("keys", "create", "--operator"),
            ("keys", "list"),
        ):
            result, shown = command(*argv, env=env)
            assert result.returncode == 0, (argv, result.stderr[-2000:])
            outputs.append(shown)
        key = Bearer(in_transaction(url, keys.create_key, None)[1])
        [node] = scrapyd(tmp_path / "nodes", 1, scrapy_env(url, sites, LOG_LEVEL="DEBUG"))
        try:
            started = node.post("scan.json", {"domain": "shop1.test"}, auth=key)
            outputs.append(started.text)
            node.wait_idle(90)
            for endpoint, params in (
                ("jobstatus.json", {"job": started.json()["job_id"]}),
                ("jobstatus.json", {"job": "1"}),
                ("domain.json", {"domain": "shop1.test"}),
                ("pages.json", {"domain": "shop1.test"}),
                ("health.json", {"auth": node.auth}),
            ):
                answer = node.get(endpoint, **{"auth": key, **params})
                assert answer.status_code == 200, answer.text
                outputs.append(answer.text)
            outputs += [node.log(), node.run_log(started.json()["run_id"])]
        finally:
            stop_all([node])
        stored = rows(url, "select stats, result_data, error from jobs")
        assert stored and stored[0]["stats"]
        outputs += [str(stored), str(rows(url, "select * from domains"))]
        assert all(PASSWORD not in text for text in outputs)
        assert sum(len(text) for text in outputs) > 10_000  # there was plenty to look through


def test_answers_never_show_the_password_of_a_broken_database(scrapyd, tmp_path):
    nodes = []
    try:
        for index, case in enumerate(sorted(BROKEN)):
            [node] = scrapyd(tmp_path / f"n{index}", 1, scrapy_env(BROKEN[case]), deploy=False)
            nodes.append(node)
            key = Bearer("ssk_any")
            answers = [
                node.get("health.json"),
                node.get("jobstatus.json", job="1", auth=key),
                node.post("scan.json", {"domain": "shop1.test"}, auth=key),
                node.get("domain.json", domain="shop1.test", auth=key),
            ]
            for answer in answers:
                assert answer.status_code == 503, answer.text
                # Whoever asks, with any Bearer string: nothing of the database's own words.
                assert answer.json()["message"] == "database unavailable", answer.text
            assert PASSWORD not in node.log()
    finally:
        stop_all(nodes)
