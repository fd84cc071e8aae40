"""`scrapy changes` and changes.json end to end: two scans of a fixture site, then the history read back."""

from __future__ import annotations

import csv
import json

import pytest

from scrapersky.db import keys
from scrapersky.db.engine import in_transaction
from tests.conftest import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
    scrapy,
    scrapy_env,
)
from tests.integration.test_rescans import site_with, urlset
from tests.support.db import rows
from tests.support.in_process import run_command
from tests.support.scrapyd_nodes import Bearer, stop_all

HOST = "journal.test"
OTHER_TENANT = "6f1c2a8e-0000-4000-8000-000000000002"
HOME = "<html><head><title>{}</title></head><body><p>The journal</p></body></html>"
# What the second scan changed, as (kind, last part of the subject).
SECOND = [
    ("metadata_changed", "title"),
    ("page_added", "b0"),
    ("page_changed", "a0"),
    ("page_removed", "a4"),
    ("sitemap_changed", "s.xml"),
]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def scanned(web_factory, request, tmp_path_factory):
    """journal.test scanned twice (with changes in between) for the default tenant, once for another;
    yields (database_url, web, public ids of the default tenant's two jobs)."""
    from scrapersky.db.schema import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('changes') / 'scrapersky.db'}"
    else:
        require_postgres()
        url = create_postgres_database()
    upgrade(url)
    web = web_factory()
    site = site_with(
        web,
        HOST,
        {"s.xml": urlset(HOST, {f"a{i}": "2024-03-01" for i in range(5)})},
        home=HOME.format("The Journal"),
    )
    env = scrapy_env(url, web, SCRAPERSKY_SCHEMES="http")
    for tenant in (None, OTHER_TENANT):
        extra = ("-a", f"tenant_id={tenant}") if tenant else ()
        assert scrapy("crawl", "sitemap", "-a", f"domain={HOST}", *extra, env=env).returncode == 0
    site.add(
        "/s.xml",
        urlset(
            HOST,
            {
                "a0": "2024-04-01",
                "a1": "2024-03-01",
                "a2": "2024-03-01",
                "a3": "2024-03-01",
                "b0": None,
            },
        ),
    )
    site.add("/", HOME.format("The Daily Journal"))
    assert scrapy("crawl", "sitemap", "-a", f"domain={HOST}", env=env).returncode == 0
    jobs = [
        row["job_id"]
        for row in rows(
            url, "select job_id from jobs where tenant_id != :t order by id", t=OTHER_TENANT
        )
    ]
    yield url, web, jobs
    if request.param == "postgres":
        drop_postgres_database(url)


def changes(url: str, *args: str):
    """`scrapy changes` in this process (tests.support.in_process). Real `scrapy changes`
    processes: the first call of test_changes_as_json_all_since_a_date_and_since_a_scan and
    test_the_scrapy_executable_gives_bad_input_one_line_and_an_exit_code."""
    return run_command("changes", *args, env=scrapy_env(url))


def summary(found: list[dict]) -> list[tuple[str, str]]:
    return sorted((c["kind"], c["subject"].rsplit("/", 1)[-1]) for c in found)


def test_changes_as_json_all_since_a_date_and_since_a_scan(scanned):
    url, _, (first, second) = scanned
    result = scrapy("changes", HOST, "--json", env=scrapy_env(url))  # the real executable
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["domain"] == HOST and answer["sitemap_urls"] == 5
    assert summary(answer["changes"]) == sorted([("first_scan", HOST), *SECOND])
    assert {c["job_id"] for c in answer["changes"]} == {first, second}
    title = next(c for c in answer["changes"] if c["kind"] == "metadata_changed")
    assert (title["old"], title["new"]) == (
        {"title": "The Journal"},
        {"title": "The Daily Journal"},
    )

    since_first = json.loads(changes(url, HOST, "--json", "--scan", first).stdout)["changes"]
    assert summary(since_first) == SECOND and {c["job_id"] for c in since_first} == {second}
    assert json.loads(changes(url, HOST, "--json", "--scan", second).stdout)["changes"] == []
    last = max(c["changed_at"] for c in answer["changes"])
    assert (
        summary(json.loads(changes(url, HOST, "--json", "--since", last).stdout)["changes"])
        == SECOND
    )
    assert json.loads(changes(url, HOST, "--json", "--since", "2999-01-01").stdout)["changes"] == []

    # Tenants see their own history only.
    other = json.loads(changes(url, HOST, "--json", "--tenant-id", OTHER_TENANT).stdout)["changes"]
    assert summary(other) == [("first_scan", HOST)]


def test_changes_as_a_table(scanned):
    url, _, (_, second) = scanned
    result = changes(url, f"https://www.{HOST.upper()}/")
    assert result.returncode == 0, result.stderr
    assert f"{HOST}: 6 changes" in result.stdout
    for kind, subject in SECOND:
        line = next(line for line in result.stdout.splitlines() if kind in line and subject in line)
        assert second[:8] in line


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_changes_as_a_feed_export(scanned, tmp_path, suffix):
    url, _, _ = scanned
    out = tmp_path / f"changes{suffix}"
    result = changes(url, HOST, "--scan", "1", "-o", str(out))  # any id of the first job
    assert result.returncode == 0, result.stderr
    if suffix == ".csv":
        with out.open(newline="") as handle:
            lines = list(csv.DictReader(handle))
        assert list(lines[0]) == ["domain", "changed_at", "job_id", "kind", "subject", "old", "new"]
        removed = next(line for line in lines if line["kind"] == "page_changed")
        assert json.loads(removed["old"]) == {"lastmod": "2024-03-01T00:00:00+00:00"}
    else:
        lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary(lines) == SECOND and {line["domain"] for line in lines} == {HOST}


BAD_INPUT = [
    (("nosuch.test",), 3, "no domain 'nosuch.test'"),
    ((HOST, "--scan", "no-such-job"), 3, "no scan 'no-such-job'"),
    ((HOST, "--since", "yesterday"), 2, "--since must be an ISO date"),
    ((HOST, "--tenant-id", "acme"), 2, "tenant_id must be a UUID"),
    (("not a domain!",), 2, "invalid domain"),
    ((HOST, "--since", "2024-01-01", "--scan", "1"), 2, "not both"),
    ((HOST, "-o", "changes.txt"), 2, "must end in one of"),
]


def test_bad_input_gets_one_line_and_an_exit_code(scanned):
    # In this process (tests.support.in_process); the next test runs the real `scrapy changes`.
    url, _, _ = scanned
    for args, code, fragment in BAD_INPUT:
        result = changes(url, *args)
        assert result.returncode == code, (args, result.stderr)
        assert fragment in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)


def test_the_scrapy_executable_gives_bad_input_one_line_and_an_exit_code(tmp_path):
    args, code, fragment = BAD_INPUT[2]
    result = scrapy("changes", *args, env=scrapy_env(f"sqlite:///{tmp_path / 'scrapersky.db'}"))
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith(f"error: {fragment}") and result.stderr.count("\n") == 1, (
        result.stderr
    )


def test_changes_json_webservice(scrapyd, scanned, tmp_path):
    url, web, (first, _second) = scanned
    [node] = scrapyd(tmp_path, 1, scrapy_env(url, web))
    operator = Bearer(in_transaction(url, keys.create_key, None, "ops")[1])
    stranger = Bearer(
        in_transaction(url, keys.create_key, "00000000-0000-4000-8000-0000000000cc", "stranger")[1]
    )
    try:
        # A tenant's key sees only its own domains: this one is unknown to it, like any unknown name.
        hidden = node.get("changes.json", domain=HOST, auth=stranger)
        assert (
            hidden.status_code == 404
            and node.get("changes.json", domain=HOST, auth=None).status_code == 401
        )
        node.session.auth = operator  # every call below, unless it names its own
        response = node.get("changes.json", domain=HOST)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["status"] == "ok" and answer["node_name"] and answer["domain"] == HOST
        assert summary(answer["changes"]) == sorted([("first_scan", HOST), *SECOND])
        assert (
            summary(node.get("changes.json", domain=HOST, scan=first).json()["changes"]) == SECOND
        )
        assert node.get("changes.json", domain=HOST, since="2999-01-01").json()["changes"] == []
        other = node.get("changes.json", domain=HOST, tenant_id=OTHER_TENANT).json()
        assert summary(other["changes"]) == [("first_scan", HOST)]
        for params, code, fragment in [
            ({}, 400, "'domain' parameter is required"),
            ({"domain": HOST, "since": "soon"}, 400, "since must be an ISO date"),
            ({"domain": HOST, "tenant_id": "acme"}, 400, "tenant_id must be a UUID"),
            ({"domain": HOST, "since": "2024-01-01", "scan": first}, 400, "not both"),
            ({"domain": "nosuch.test"}, 404, "no domain"),
            ({"domain": HOST, "scan": "no-such-job"}, 404, "no scan"),
        ]:
            failed = node.get("changes.json", **params)
            assert failed.status_code == code, (params, failed.text)
            assert failed.json()["status"] == "error" and fragment in failed.json()["message"]
    finally:
        stop_all([node])
