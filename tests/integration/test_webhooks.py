"""Webhooks end to end: a loopback receiver checks signatures; retries, the address policy and tenants."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scrapersky.db import jobs
from scrapersky.db import webhooks as hooks
from tests.conftest import scrapy, scrapy_env
from tests.support.db import rows
from tests.support.fixture_web import demo_site
from tests.support.in_process import run_command
from tests.support.scrapyd_nodes import stop_all
from tests.support.waiting import wait_for

TENANT = "550e8400-e29b-41d4-a716-446655440000"
OTHER = "00000000-0000-4000-8000-0000000000bb"


class Receiver:
    """A webhook endpoint on loopback: answers the scripted statuses in turn (the last repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def payloads(self, secret: str) -> list[dict]:
        """Every body received, after checking its signature and headers."""
        found = []
        for headers, body in self.received:
            stamp = headers["X-ScraperSky-Timestamp"]
            expected = (
                "sha256="
                + hmac.new(
                    secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
            )
            assert headers["X-ScraperSky-Signature"] == expected
            payload = json.loads(body)
            assert headers["X-ScraperSky-Event"] == payload["event"]
            found.append(payload)
        return found


@pytest.fixture
def receiver_factory():
    made: list[Receiver] = []

    def make(statuses: list[int]) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def _deliver(database_url: str, env: dict, run=run_command) -> dict:
    """`scrapy webhooks deliver --json`, in this process (tests.support.in_process) unless run is
    conftest's scrapy (test_cancelling_a_batch_reports_each_job_and_the_batch)."""
    result = run("webhooks", "deliver", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_scan_calls_its_tenants_webhook_signed_and_retried_until_delivered(
    database_url, web, receiver_factory
):
    demo_site(web, "shop1.test")
    receiver, stranger = receiver_factory([500, 200]), receiver_factory([200])
    hook = hooks.add(database_url, TENANT, receiver.url)
    hooks.add(database_url, OTHER, stranger.url)
    env = scrapy_env(database_url, web, SCRAPERSKY_WEBHOOK_RETRY_BASE="1")
    result = scrapy("crawl", "sitemap", "-a", "domain=shop1.test", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    # The run's own pass met a 500; the delivery waits for its retry, then goes through.
    assert len(receiver.received) == 1
    log = rows(
        database_url,
        "select status, attempts, last_status_code, last_error from webhook_deliveries",
    )
    assert log == [
        {"status": "pending", "attempts": 1, "last_status_code": 500, "last_error": "HTTP 500"}
    ]
    wait_for(lambda: _deliver(database_url, env)["delivered"] == 1, timeout=30, every=0.5)
    payloads = receiver.payloads(hook.secret)
    assert len(payloads) == 2 and payloads[0] == payloads[1]
    job = rows(database_url, "select job_id from jobs")[0]
    assert payloads[0]["event"] == "job.ended" and payloads[0]["job_id"] == job["job_id"]
    assert (payloads[0]["status"], payloads[0]["domain"], payloads[0]["error"]) == (
        "complete",
        "shop1.test",
        None,
    )
    assert rows(database_url, "select status, attempts from webhook_deliveries") == [
        {"status": "delivered", "attempts": 2}
    ]
    assert stranger.received == []  # another tenant's endpoint hears nothing of this tenant


def test_webhooks_to_private_addresses_are_refused_and_never_retried(
    database_url, web, receiver_factory
):
    receiver = receiver_factory([200])
    hooks.add(database_url, TENANT, receiver.url)
    jobs.cancel(
        database_url,
        jobs.create_jobs(database_url, TENANT, ["x.test"], run_id="r", options={})[0].job_id,
    )
    env = scrapy_env(database_url, web, SCRAPERSKY_ALLOW_PRIVATE_NETWORKS="false")
    assert _deliver(database_url, env) == {"delivered": 0, "pending": 0, "failed": 1}
    assert receiver.received == []
    failed = rows(database_url, "select status, attempts, last_error from webhook_deliveries")[0]
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["last_error"].startswith("refused: 127.0.0.1 is a loopback address")
    assert _deliver(database_url, env) == {"delivered": 0, "pending": 0, "failed": 0}


def test_cancelling_a_batch_reports_each_job_and_the_batch(database_url, web, receiver_factory):
    receiver = receiver_factory([200])
    hook = hooks.add(database_url, TENANT, receiver.url)
    batch = jobs.create_batch(database_url, TENANT, ["a.test", "b.test"], {})
    jobs.cancel(database_url, batch.batch_id)
    assert _deliver(database_url, scrapy_env(database_url, web), run=scrapy) == {
        "delivered": 3,
        "pending": 0,
        "failed": 0,
    }
    events = sorted(
        (p["event"], p.get("domain") or p["batch_id"], p["status"])
        for p in receiver.payloads(hook.secret)
    )
    assert events == [
        ("batch.ended", batch.batch_id, "cancelled"),
        ("job.ended", "a.test", "cancelled"),
        ("job.ended", "b.test", "cancelled"),
    ]
    ended = next(p for p in receiver.payloads(hook.secret) if p["event"] == "batch.ended")
    assert (ended["total_domains"], ended["completed_domains"], ended["failed_domains"]) == (
        2,
        0,
        0,
    )


def test_webhook_command_errors_are_one_line(database_url):
    # In this process (tests.support.in_process); the next test runs the real `scrapy webhooks`.
    env = scrapy_env(database_url)
    missing = run_command("webhooks", "add", "http://x.test/", env=env)
    assert (
        missing.returncode == 2
        and missing.stderr.strip() == "error: --tenant-id is required to add a webhook"
    )
    bad = run_command("webhooks", "add", "file:///etc/passwd", "--tenant-id", TENANT, env=env)
    assert bad.returncode == 2 and "must be an http(s) URL" in bad.stderr
    unknown = run_command("webhooks", "remove", "99", env=env)
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: no webhook with id '99'"
    assert rows(database_url, "select id from webhooks") == []


def test_webhooks_are_added_listed_logged_and_removed_per_tenant(sqlite_url):
    # In this process (tests.support.in_process): the command's own bookkeeping, no delivery.
    env = scrapy_env(sqlite_url)
    other = "6f1c2a8e-0000-4000-8000-000000000002"
    added = run_command(
        "webhooks", "add", "https://hooks.example/a", "--tenant-id", TENANT, "--json", env=env
    )
    assert added.returncode == 0, added.stderr
    hook = json.loads(added.stdout)
    assert (hook["tenant_id"], hook["url"]) == (TENANT, "https://hooks.example/a")
    assert len(hook["secret"]) >= 32 and "message" not in hook
    plain = run_command(
        "webhooks", "add", "https://hooks.example/b", "--tenant-id", other, "--secret", "s", env=env
    )
    assert plain.stdout.startswith("webhook 2 added; its signing secret (shown once): s")
    listed = run_command("webhooks", "list", "--json", env=env)
    assert [h["url"] for h in json.loads(listed.stdout)] == [
        "https://hooks.example/a",
        "https://hooks.example/b",
    ]
    mine = run_command("webhooks", "list", "--tenant-id", TENANT, env=env)
    assert mine.returncode == 0 and "hooks.example/a" in mine.stdout
    assert "hooks.example/b" not in mine.stdout
    jobs.cancel(
        sqlite_url,
        jobs.create_jobs(sqlite_url, TENANT, ["late.test"], run_id="r", options={})[0].job_id,
    )
    log = json.loads(run_command("webhooks", "log", "--json", env=env).stdout)
    assert [(d["webhook"], d["event"], d["status"]) for d in log] == [(1, "job.ended", "pending")]
    table = run_command("webhooks", "log", "--limit", "1", env=env)
    assert table.returncode == 0 and "┃ event" in table.stdout and "│ 1 " in table.stdout
    assert run_command("webhooks", "log", "--limit", "0", env=env).returncode == 2
    assert run_command("webhooks", "list", "extra", env=env).returncode == 2
    assert run_command("webhooks", "nothing", env=env).returncode == 2
    removed = run_command("webhooks", "remove", "2", "--tenant-id", TENANT, env=env)
    assert (removed.returncode, removed.stderr.strip()) == (2, "error: no webhook with id '2'")
    removed = run_command("webhooks", "remove", "2", env=env)
    assert (removed.returncode, removed.stdout) == (0, "webhook 2 removed\n")
    # Removed webhooks stay in the table (their delivery log refers to them), inactive.
    assert rows(sqlite_url, "select id, active from webhooks order by id") == [
        {"id": 1, "active": 1},
        {"id": 2, "active": 0},
    ]
    assert [
        h["id"] for h in json.loads(run_command("webhooks", "list", "--json", env=env).stdout)
    ] == [1]


def test_the_scrapy_executable_gives_webhook_errors_one_line(tmp_path):
    env = scrapy_env(f"sqlite:///{tmp_path / 'scrapersky.db'}")
    unknown = scrapy("webhooks", "remove", "99", env=env)
    assert (unknown.returncode, unknown.stderr) == (2, "error: no webhook with id '99'\n")


def test_a_scrapyd_node_delivers_due_webhooks_without_any_run(
    scrapyd, postgres_url, web, receiver_factory, tmp_path
):
    receiver = receiver_factory([503, 204])
    hook = hooks.add(postgres_url, TENANT, receiver.url)
    jobs.cancel(
        postgres_url,
        jobs.create_jobs(postgres_url, TENANT, ["late.test"], run_id="r", options={})[0].job_id,
    )
    [node] = scrapyd(
        tmp_path / "nodes", 1, scrapy_env(postgres_url, web, SCRAPERSKY_WEBHOOK_RETRY_BASE="1")
    )
    try:
        wait_for(
            lambda: (
                rows(postgres_url, "select status from webhook_deliveries")[0]["status"]
                == "delivered"
            ),
            timeout=60,
            every=0.5,
        )
    finally:
        stop_all([node])
    assert [p["event"] for p in receiver.payloads(hook.secret)] == ["job.ended", "job.ended"]
    assert rows(postgres_url, "select attempts, last_status_code from webhook_deliveries") == [
        {"attempts": 2, "last_status_code": 204}
    ]
