"""The one error model (scrapersky/core/errors.py) against its table (docs/errors.md), and every
command's and every webservice's error paths against both: the exit code a command ends with,
and the HTTP status a webservice answers, are the ones the table gives the error's class.

All in this process: commands through tests.support.in_process, webservices through the very
calls their render makes in its worker thread (`_serve`, then `_failed` on an error), over a
real SQLite database and, for "unavailable", a PostgreSQL port nothing listens on and a Scrapyd
port nothing listens on. Real nodes answer the same paths in test_api_fuzz.py,
test_api_tenants.py and test_scrapyd_webservices.py."""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import update
from twisted.python.failure import Failure
from twisted.web.test.requesthelper import DummyRequest

from scrapersky.api import base, batches, changes, health, jobs, results
from scrapersky.api.metrics import Metrics
from scrapersky.config import project_settings
from scrapersky.core.errors import ScraperSkyError
from scrapersky.db import jobs as job_rows
from scrapersky.db import keys
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.db.models import Job
from tests.conftest import ROOT, scrapy_env
from tests.support.in_process import _as_a_new_process, run_command
from tests.support.ports import free_port

TABLE = ROOT / "docs" / "errors.md"
PACKAGE = ROOT / "scrapersky"
TENANT = "c0ffee00-0000-4000-8000-00000000e001"
OTHER = "c0ffee00-0000-4000-8000-00000000e002"
DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/none"  # nothing listens on port 1
# Base classes from outside the package that make a class an exception.
FOREIGN = {"Exception", "ValueError", "LookupError", "RuntimeError", "IgnoreRequest"}
FOREIGN |= {"DNSLookupError"}


def documented() -> dict[str, tuple[int, int]]:
    """{class path under scrapersky: (exit code, HTTP status)} from the table of classes."""
    rows = re.findall(r"^\| `([\w.]+)` \| (\d+) \| (\d{3}) \|", TABLE.read_text(), re.M)
    return {path: (int(code), int(status)) for path, code, status in rows}


def exit_codes() -> set[int]:
    return {int(code) for code in re.findall(r"^\| (\d+) \| ", TABLE.read_text(), re.M)}


def resolve(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(f"scrapersky.{module}"), name)


def declared_exceptions() -> set[str]:
    """Every public exception class the package's source declares, as module.Class paths."""
    classes: dict[str, tuple[str, list[str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                names = [
                    b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "")
                    for b in node.bases
                ]
                classes[f"{module}.{node.name}"] = (node.name, names)
    exceptions = set(FOREIGN)
    while True:
        more = {name for name, bases in classes.values() if exceptions & set(bases)} - exceptions
        if not more:
            break
        exceptions |= more
    return {
        path
        for path, (name, _) in classes.items()
        if name in exceptions and not name.startswith("_")
    }


def test_the_table_is_the_classes():
    rows = documented()
    assert len(rows) > 20
    for path, numbers in rows.items():
        error = resolve(path)
        assert issubclass(error, ScraperSkyError), path
        assert (error.exit_code, error.http_status) == numbers, path
    assert declared_exceptions() == set(rows), "every exception class is in docs/errors.md"
    assert {code for code, _ in rows.values()} <= exit_codes()
    # Only the base (never raised) says 500: no known error answers it.
    assert [path for path, (_, status) in rows.items() if status == 500] == [
        "core.errors.ScraperSkyError"
    ]


# --- commands -----------------------------------------------------------------------------

COMMANDS = [
    # (arguments, database: "up" or "down", the class whose exit code the command must end with)
    (["status", "no-such-id"], "up", "core.errors.NotFound"),
    (["cancel", "no-such-id"], "up", "core.errors.NotFound"),
    (["retry", "no-such-id"], "up", "core.errors.NotFound"),
    (["batch", "--resume", "no-such-id"], "up", "core.errors.NotFound"),
    (["webhooks", "remove", "99"], "up", "core.errors.NotFound"),
    (["keys", "revoke", "key_0000"], "up", "core.errors.NotFound"),
    (["changes", "nosuch.test"], "up", "core.errors.NotFound"),
    (["changes", "example.com", "--scan", "no-such-job"], "up", "core.errors.NotFound"),
    (["changes", "not a domain!"], "up", "core.domains.InvalidDomain"),
    (["status", "--tenant-id", "nope"], "up", "core.errors.ConfigError"),
    (["status", "-s", "SCRAPERSKY_PENDING_AFTER=soon"], "up", "core.errors.ConfigError"),
    (["webhooks", "remove", "abc"], "up", "core.errors.ConfigError"),
    (["webhooks", "add", "ftp://x", "--tenant-id", TENANT], "up", "core.errors.ConfigError"),
    (["keys", "create"], "up", "core.errors.ConfigError"),
    (
        ["crawl", "sitemap", "-a", "domain=ok.test", "-a", "max_pages=-1"],
        "up",
        "core.errors.BadInput",
    ),
    (["status"], "down", "core.errors.DatabaseUnavailable"),
    (["cancel", "x"], "down", "core.errors.DatabaseUnavailable"),
    (["retry", "x"], "down", "core.errors.DatabaseUnavailable"),
    (["keys", "list"], "down", "core.errors.DatabaseUnavailable"),
    (["webhooks", "list"], "down", "core.errors.DatabaseUnavailable"),
    (["changes", "example.com"], "down", "core.errors.DatabaseUnavailable"),
    (["migrate"], "down", "core.errors.DatabaseUnavailable"),
    (["crawl", "sitemap", "-a", "domain=ok.test"], "down", "core.errors.DatabaseUnavailable"),
]


@pytest.mark.parametrize(
    ("argv", "database", "error"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_each_command_error_exits_with_its_class_code(sqlite_url, argv, database, error):
    result = run_command(*argv, env=scrapy_env(sqlite_url if database == "up" else DOWN))
    assert result.returncode == documented()[error][0], (argv, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr


def test_usage_errors_exit_like_bad_input(sqlite_url):
    result = run_command("status", "a", "b", env=scrapy_env(sqlite_url))
    assert result.returncode == documented()["core.errors.BadInput"][0], result.stderr


def test_no_scrapyd_node_exits_with_the_node_code(sqlite_url, tmp_path):
    listing = tmp_path / "domains.txt"
    listing.write_text("ok.test\n")
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_command("batch", str(listing), "--scrapyd", dead, env=scrapy_env(sqlite_url))
    assert result.returncode == documented()["scheduling.runs.NoNodeAnswered"][0], result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error: ")]


# --- webservices ----------------------------------------------------------------------------


@contextlib.contextmanager
def node_settings(database: str, **extra: str) -> Iterator[None]:
    """The settings a node's webservices read (project_settings), from this environment."""
    with _as_a_new_process(scrapy_env(database, **extra)):
        project_settings.cache_clear()
        try:
            yield
        finally:
            project_settings.cache_clear()


def root(login: bool = True) -> SimpleNamespace:
    """What a webservice reads of Scrapyd's root on these paths: the node's name, and whether
    scrapersky.api.node.application put the operator login in front of it."""
    return SimpleNamespace(node_name="errors-test", **{base.OPERATOR_LOGIN: login})


def call(
    service: base.Service, fields: dict[str, str], key: str | None
) -> tuple[int, dict[str, Any]]:
    """What Service.render answers, minus the thread: `_serve`, or `_failed` on its error."""
    args = {name.encode(): [value.encode()] for name, value in fields.items()}
    try:
        return 200, service._serve(args, "", b"", key)
    except Exception:
        return service._failed(Failure())


@pytest.fixture
def served(sqlite_url) -> dict[str, Any]:
    """The database behind the webservices: a tenant key and a batch whose one job failed once."""
    batch = in_transaction(sqlite_url, job_rows.create_batch, TENANT, ["tried.test"], {})
    with session_scope(sqlite_url) as session:
        session.execute(update(Job).values(status="failed", attempts=1, error="HTTP 500"))
    return {
        "url": sqlite_url,
        "key": in_transaction(sqlite_url, keys.create_key, TENANT)[1],
        "batch": batch.batch_id,
    }


SERVICES = [
    # (service, fields, key: "tenant" / "unknown" / None, the class whose status it answers)
    (jobs.JobStatusService, {"job": "x"}, None, "core.errors.Unauthorized"),
    (jobs.JobStatusService, {"job": "x"}, "unknown", "core.errors.Unauthorized"),
    (jobs.JobStatusService, {}, "tenant", "core.errors.BadInput"),
    (jobs.JobStatusService, {"job": "no-such"}, "tenant", "core.errors.NotFound"),
    (jobs.JobStatusService, {"job": "x", "tenant_id": OTHER}, "tenant", "core.errors.Forbidden"),
    (jobs.JobStatusService, {"job": "x", "tenant_id": "nope"}, "tenant", "core.errors.BadInput"),
    (batches.BatchStatusService, {"batch": "no-such"}, "tenant", "core.errors.NotFound"),
    (batches.BatchStatusService, {"batch": "x", "limit": "0"}, "tenant", "core.errors.BadInput"),
    (batches.Batches, {"after": "-1"}, "tenant", "core.errors.BadInput"),
    (results.DomainInfo, {"domain": "nosuch.test"}, "tenant", "core.errors.NotFound"),
    (results.DomainInfo, {"domain": "not a domain!"}, "tenant", "core.domains.InvalidDomain"),
    (
        results.Pages,
        {"domain": "x.test", "lastmod_since": "soon"},
        "tenant",
        "core.errors.BadInput",
    ),
    (results.Pages, {"domain": "nosuch.test"}, "tenant", "core.errors.NotFound"),
    (
        changes.Changes,
        {"domain": "x.test", "since": "2024-01-01", "scan": "1"},
        "tenant",
        "core.errors.BadInput",
    ),
    (changes.Changes, {"domain": "x.test", "since": "soon"}, "tenant", "core.errors.BadInput"),
    (changes.Changes, {"domain": "nosuch.test"}, "tenant", "core.errors.NotFound"),
    (jobs.ScanService, {"domain": "not a domain!"}, "tenant", "core.domains.InvalidDomain"),
    (
        jobs.ScanService,
        {"domain": "ok.test", "render": "sometimes"},
        "tenant",
        "core.errors.BadInput",
    ),
    (jobs.ScanService, {"domain": "ok.test", "priority": "inf"}, "tenant", "core.errors.BadInput"),
    (batches.Batch, {}, "tenant", "core.errors.BadInput"),
    (batches.Batch, {"domains": "not a domain!"}, "tenant", "core.errors.BadInput"),
    (batches.Batch, {"domains": "ok.test", "slots": "99"}, "tenant", "core.errors.BadInput"),
    (batches.Cancel, {"id": "no-such"}, "tenant", "core.errors.NotFound"),
    (batches.Retry, {"batch": "no-such"}, "tenant", "core.errors.NotFound"),
]


@pytest.mark.parametrize(
    ("service", "fields", "key", "error"), SERVICES, ids=lambda v: getattr(v, "__name__", None)
)
def test_each_webservice_error_answers_its_class_status(served, service, fields, key, error):
    given = {"tenant": served["key"], "unknown": "ssk_unknown", None: None}[key]
    with node_settings(served["url"]):
        status, answer = call(service(root()), fields, given)
    assert status == documented()[error][1], (fields, answer)
    assert answer["status"] == "error" and "\n" not in answer["message"], answer


def test_the_retry_limit_is_a_quota(served):
    with node_settings(served["url"], SCRAPERSKY_MAX_RETRIES="0"):
        status, answer = call(batches.Retry(root()), {"batch": served["batch"]}, served["key"])
    assert status == documented()["core.errors.QuotaExceeded"][1], answer
    assert answer["batch_id"] == served["batch"]


def test_an_unusable_setting_of_the_node_is_not_a_500(served):
    with node_settings(served["url"], SCRAPERSKY_MAX_RETRIES="many"):
        status, answer = call(batches.Retry(root()), {"batch": served["batch"]}, served["key"])
    assert status == documented()["core.errors.ConfigError"][1], answer
    assert "SCRAPERSKY_MAX_RETRIES" in answer["message"]


def test_no_scrapyd_node_is_node_unavailable(served):
    dead = f"http://127.0.0.1:{free_port()}"
    with node_settings(served["url"], SCRAPYD_URLS=dead):
        status, answer = call(jobs.ScanService(root()), {"domain": "ok.test"}, served["key"])
    assert status == documented()["scheduling.runs.NoNodeAnswered"][1], answer
    assert answer["job_id"]  # the job it made, failed with the reason


def test_the_database_unavailable_says_only_that(served):
    with node_settings(DOWN):
        keyed = call(jobs.JobStatusService(root()), {"job": "x"}, served["key"])
        public = call(health.Health(root()), {}, None)
    for status, answer in (keyed, public):
        assert status == documented()["core.errors.DatabaseUnavailable"][1], answer
        assert answer["message"] == "database unavailable" and "127.0.0.1" not in json.dumps(answer)


def test_a_schema_behind_is_named_by_health(tmp_path):
    with node_settings(f"sqlite:///{tmp_path / 'empty.db'}"):
        status, answer = call(health.Health(root()), {}, None)
    assert status == documented()["core.errors.SchemaBehind"][1], answer
    assert "scrapy migrate" in answer["message"] and answer["revision"] is None


def render(service: base.Service, method: bytes) -> tuple[int, dict[str, Any]]:
    request = DummyRequest([b""])
    request.method = method
    body = service.render(request)
    return request.responseCode, json.loads(body)


def test_the_answers_before_the_thread_come_from_classes_too(served):
    with node_settings(served["url"]):
        wrong_method = render(jobs.JobStatusService(root()), b"DELETE")
        no_login = render(jobs.JobStatusService(root(login=False)), b"GET")
    assert wrong_method[0] == documented()["core.errors.MethodNotAllowed"][1], wrong_method
    assert no_login[0] == documented()["core.errors.ConfigError"][1], no_login
    assert "tenant services are off" in no_login[1]["message"]


def test_metrics_without_a_database_answers_database_unavailable():
    status, body = Metrics._unavailable(OSError(f"cannot reach {DOWN}"))
    assert status == documented()["core.errors.DatabaseUnavailable"][1]
    assert body == b"# database unavailable\n"
