"""One reading of scan options (scrapersky/config/scan_options.py) behind its three doors: the spider
arguments of `scrapy crawl sitemap`, the options of `scrapy batch` and the fields of scan.json.
The same values go through all three; they must refuse the same ones with the same message
(exit 2 for the commands, 400 for the webservice) and keep the same options for the rest.

All in this process: the commands through tests.support.in_process, scan.json through the calls
its render makes (tests/integration/test_error_model.py), over a real SQLite database; no
Scrapyd node listens at the address the batch and scan.json are given, so each keeps its job or
batch, with the options it read, and says no node answered."""

from __future__ import annotations

import json

import pytest

from scrapersky.api import jobs as services
from scrapersky.config.arguments import parse_run_arguments
from scrapersky.config.scan_options import MAX_NUMBER
from scrapersky.core.errors import BadInput, NodeUnavailable
from scrapersky.db import jobs, keys
from scrapersky.db.engine import in_transaction, session_scope
from tests.conftest import scrapy_env
from tests.integration.test_error_model import call, node_settings, root
from tests.support.db import rows
from tests.support.in_process import run_command
from tests.support.ports import free_port

DEFAULT = "0d15ea5e-0000-4000-8000-000000000001"  # SCRAPERSKY_DEFAULT_TENANT of these tests
OTHER = "0D15EA5E-0000-4000-8000-000000000002"
DOMAIN = "ok.test"

# (options, the one message of every parser)
BAD = [
    ({"max_pages": "-1"}, "max_pages must be >= 0, got -1"),
    ({"max_pages": "lots"}, "max_pages must be an integer, got 'lots'"),
    ({"max_pages": "1.5"}, "max_pages must be an integer, got '1.5'"),
    (
        {"max_pages": str(MAX_NUMBER + 1)},
        f"max_pages must be <= {MAX_NUMBER}, got '{MAX_NUMBER + 1}'",
    ),
    ({"render": "sometimes"}, "render must be one of auto, always, never, got 'sometimes'"),
    ({"tenant_id": "acme"}, "tenant_id must be a UUID, got 'acme'"),
    (
        {"render": "never", "max_pages": "x" * 200},
        f"max_pages must be an integer, got '{'x' * 77}...'",
    ),
]
# (options, what every parser keeps: tenant, max_pages, render)
GOOD = [
    ({}, (DEFAULT, 0, "auto")),
    ({"max_pages": "", "render": "", "tenant_id": ""}, (DEFAULT, 0, "auto")),  # blank: default
    ({"max_pages": " 7 ", "render": "ALWAYS"}, (DEFAULT, 7, "always")),
    ({"max_pages": str(MAX_NUMBER), "render": "never"}, (DEFAULT, MAX_NUMBER, "never")),
    ({"tenant_id": OTHER, "max_pages": "0"}, (OTHER.lower(), 0, "auto")),
]


def crawl_argv(options: dict[str, str]) -> list[str]:
    argv = ["crawl", "sitemap", "-a", f"domain={DOMAIN}"]
    for name, value in options.items():
        argv += ["-a", f"{name}={value}"]
    return argv


def batch_argv(listing: str, node: str, options: dict[str, str]) -> list[str]:
    argv = ["batch", listing, "--scrapyd", node]
    for name, value in options.items():
        argv.append(f"--{name.replace('_', '-')}={value}")  # =: a value may start with -
    return argv


@pytest.fixture
def doors(sqlite_url, tmp_path):
    """The three parsers as callables of the options, each giving (exit code or HTTP status,
    message or None, what it kept: (tenant, max_pages, render) or None)."""
    dead = f"http://127.0.0.1:{free_port()}"
    env = scrapy_env(sqlite_url, SCRAPERSKY_DEFAULT_TENANT=DEFAULT)
    listing = tmp_path / "domains.txt"
    listing.write_text(f"{DOMAIN}\n")
    operator = in_transaction(sqlite_url, keys.create_key, None)[1]

    def spider(options):
        try:
            result = run_command(*crawl_argv(options), env=env)
        except AssertionError:  # every check passed: a crawl would start
            run = parse_run_arguments({"domain": DOMAIN, **options}, DEFAULT)
            return 0, None, (run.tenant_id, run.options.max_pages, run.options.render)
        return result.returncode, _error(result.stderr), None

    def batch(options):
        result = run_command(*batch_argv(str(listing), dead, options), env=env)
        if result.returncode == NodeUnavailable.exit_code:  # no node answered: the batch is made
            [made] = rows(sqlite_url, "select * from batch_jobs order by id desc limit 1")
            return 0, None, _kept(made["tenant_id"], made["options"])
        return result.returncode, _error(result.stderr), None

    def scan_json(options):
        with node_settings(sqlite_url, SCRAPERSKY_DEFAULT_TENANT=DEFAULT, SCRAPYD_URLS=dead):
            status, answer = call(
                services.ScanService(root()), {"domain": DOMAIN, **options}, operator
            )
        if "job_id" in answer:  # made, then not scheduled: no node answered
            with session_scope(sqlite_url) as session:
                job = jobs.find_jobs(session, answer["job_id"], None)[0]
                return 0, None, _kept(job.tenant_id, job.options)
        return status, answer["message"], None

    return {"spider": spider, "batch": batch, "scan.json": scan_json}


def _kept(tenant: str, options) -> tuple[str, int, str]:
    stored = json.loads(options) if isinstance(options, str) else options
    return tenant, stored["max_pages"], stored["render"]


def _error(stderr: str) -> str | None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-2000:]
    return lines[0].removeprefix("error: ")


@pytest.mark.parametrize(("options", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_every_door_refuses_a_bad_option_alike(doors, options, message):
    answers = {name: door(options) for name, door in doors.items()}
    assert answers == {
        "spider": (BadInput.exit_code, message, None),
        "batch": (BadInput.exit_code, message, None),
        "scan.json": (BadInput.http_status, message, None),
    }


@pytest.mark.parametrize(("options", "kept"), GOOD, ids=[str(o) for o, _ in GOOD])
def test_every_door_keeps_a_good_option_alike(doors, options, kept):
    answers = {name: door(options) for name, door in doors.items()}
    assert answers == dict.fromkeys(doors, (0, None, kept))


@pytest.mark.parametrize("value", ["high", "inf", "-Infinity", "nan", "1e999"])
def test_the_batch_and_scan_json_refuse_a_bad_priority_alike(doors, value):
    # A priority is Scrapyd's, not the spider's: `-a priority=` is an unknown spider argument.
    batch, scan = doors["batch"]({"priority": value}), doors["scan.json"]({"priority": value})
    assert (batch[0], scan[0]) == (BadInput.exit_code, BadInput.http_status), (batch, scan)
    assert batch[1] == scan[1], (batch, scan)
    assert batch[1].startswith("priority must be a "), batch
