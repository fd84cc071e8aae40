"""A password in DATABASE_URL never appears in any output: commands' stdout and stderr, logs,
stored stats and results, and every answer and error of the HTTP API, with the database
reachable, unreachable, or the URL malformed."""

from __future__ import annotations

import pytest

from scrapersky.db import keys
from tests.conftest import migrated_postgres, scrapy, scrapy_env
from tests.support.db import rows
from tests.support.fixture_web import FixtureWeb, demo_site
from tests.support.scrapyd_nodes import Bearer, stop_all

PASSWORD = "TopSecretDbPw"
BROKEN = {
    "unreachable": f"postgresql+psycopg2://scanner:{PASSWORD}@127.0.0.1:1/scrapersky",
    "unknown host": f"postgresql+psycopg2://scanner:{PASSWORD}@db.nonexistent.invalid/scrapersky",
    "malformed": f"postgresql+psycopg2://scanner:{PASSWORD}@127.0.0.1:notaport/scrapersky",
}
COMMANDS = [
    ("status",),
    ("status", "1"),
    ("migrate",),
    ("keys", "list"),
    ("crawl", "sitemap", "-a", "domain=shop1.test"),
]


def with_password(url: str) -> str:
    """The same database, with a password the server (trust auth) ignores."""
    return url.replace(
        "postgresql+psycopg2://postgres@", f"postgresql+psycopg2://postgres:{PASSWORD}@"
    )


@pytest.fixture
def sites():
    with FixtureWeb() as web:
        demo_site(web, "shop1.test")
        yield web


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_commands_never_print_the_password_of_a_broken_database(case):
    env = scrapy_env(BROKEN[case])
    for command in COMMANDS:
        result = scrapy(*command, env=env, timeout=60)
        assert result.returncode != 0, command
        assert PASSWORD not in result.stdout + result.stderr, (command, result.stderr)
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, (
            result.stderr
        )


def test_nothing_shows_the_password_of_a_working_database(
    postgres_server, scrapyd, sites, tmp_path
):
    for plain in migrated_postgres():
        url = with_password(plain)
        env = scrapy_env(url, sites, LOG_LEVEL="DEBUG")
        outputs = []
        for command in (
            ("migrate",),
            ("crawl", "sitemap", "-a", "domain=shop1.test", "-a", "max_pages=2"),
            ("status", "--json"),
            ("status", "1"),
            ("keys", "create", "--operator"),
            ("keys", "list"),
        ):
            result = scrapy(*command, env=env)
            assert result.returncode == 0, (command, result.stderr[-2000:])
            outputs += [result.stdout, result.stderr]
        key = Bearer(keys.create_key(url, None)[1])
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
                ("health.json", {}),
            ):
                answer = node.get(endpoint, auth=key, **params)
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
                assert PASSWORD not in answer.text and answer.json()["message"]
            assert PASSWORD not in node.log()
    finally:
        stop_all(nodes)
