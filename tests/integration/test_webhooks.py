"""Webhooks end to end: a loopback receiver checks signatures; retries, the address policy, tenants,
and the bounds of a call to a tenant's endpoint (deadline, answer size, https, leases)."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import types
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update

from scrapersky.db import jobs, keys
from scrapersky.db import webhooks as hooks
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.db.models import WebhookDelivery
from tests.conftest import ROOT, scrapy, scrapy_env
from tests.support.db import rows
from tests.support.fixture_web import FixtureWeb, demo_site
from tests.support.in_process import run_command
from tests.support.scrapyd_nodes import Bearer, stop_all
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


def hook_env(database_url: str, web: FixtureWeb | None = None, **extra: str) -> dict[str, str]:
    """scrapy_env with plain-http webhook endpoints allowed: the receivers here are on loopback."""
    return scrapy_env(database_url, web, SCRAPERSKY_WEBHOOK_ALLOW_HTTP="true", **extra)


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
    hook = in_transaction(database_url, hooks.add, TENANT, receiver.url)
    in_transaction(database_url, hooks.add, OTHER, stranger.url)
    env = hook_env(database_url, web, SCRAPERSKY_WEBHOOK_RETRY_BASE="1")
    result = scrapy("crawl", "sitemap", "-a", "domain=shop1.test", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    # The run only records the delivery (a crawl never waits on a tenant's endpoint); a sender
    # meets a 500, and the delivery waits for its retry, then goes through.
    assert receiver.received == []
    assert rows(database_url, "select status, attempts from webhook_deliveries") == [
        {"status": "pending", "attempts": 0}
    ]
    assert _deliver(database_url, env) == {"delivered": 0, "pending": 1, "failed": 0}
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
    in_transaction(database_url, hooks.add, TENANT, receiver.url)
    in_transaction(
        database_url,
        jobs.cancel,
        in_transaction(database_url, jobs.add_jobs, TENANT, ["x.test"], run_id="r", options={})[
            0
        ].job_id,
    )
    env = hook_env(database_url, web, SCRAPERSKY_ALLOW_PRIVATE_NETWORKS="false")
    assert _deliver(database_url, env) == {"delivered": 0, "pending": 0, "failed": 1}
    assert receiver.received == []
    failed = rows(database_url, "select status, attempts, last_error from webhook_deliveries")[0]
    assert failed["status"] == "failed" and failed["attempts"] == 1
    assert failed["last_error"].startswith("refused: 127.0.0.1 is a loopback address")
    assert _deliver(database_url, env) == {"delivered": 0, "pending": 0, "failed": 0}


def test_cancelling_a_batch_reports_each_job_and_the_batch(database_url, web, receiver_factory):
    receiver = receiver_factory([200])
    hook = in_transaction(database_url, hooks.add, TENANT, receiver.url)
    batch = in_transaction(database_url, jobs.create_batch, TENANT, ["a.test", "b.test"], {})
    in_transaction(database_url, jobs.cancel, batch.batch_id)
    assert _deliver(database_url, hook_env(database_url, web), run=scrapy) == {
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
    assert unknown.returncode == 3 and unknown.stderr.strip() == "error: no webhook with id '99'"
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
    in_transaction(
        sqlite_url,
        jobs.cancel,
        in_transaction(sqlite_url, jobs.add_jobs, TENANT, ["late.test"], run_id="r", options={})[
            0
        ].job_id,
    )
    log = json.loads(run_command("webhooks", "log", "--json", env=env).stdout)
    assert [(d["webhook"], d["event"], d["status"]) for d in log] == [(1, "job.ended", "pending")]
    table = run_command("webhooks", "log", "--limit", "1", env=env)
    assert table.returncode == 0 and "┃ event" in table.stdout and "│ 1 " in table.stdout
    assert run_command("webhooks", "log", "--limit", "0", env=env).returncode == 2
    assert run_command("webhooks", "list", "extra", env=env).returncode == 2
    assert run_command("webhooks", "nothing", env=env).returncode == 2
    removed = run_command("webhooks", "remove", "2", "--tenant-id", TENANT, env=env)
    assert (removed.returncode, removed.stderr.strip()) == (3, "error: no webhook with id '2'")
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
    assert (unknown.returncode, unknown.stderr) == (3, "error: no webhook with id '99'\n")


def test_a_scrapyd_node_delivers_due_webhooks_without_any_run(
    scrapyd, postgres_url, web, receiver_factory, tmp_path
):
    receiver = receiver_factory([503, 204])
    hook = in_transaction(postgres_url, hooks.add, TENANT, receiver.url)
    in_transaction(
        postgres_url,
        jobs.cancel,
        in_transaction(postgres_url, jobs.add_jobs, TENANT, ["late.test"], run_id="r", options={})[
            0
        ].job_id,
    )
    [node] = scrapyd(
        tmp_path / "nodes", 1, hook_env(postgres_url, web, SCRAPERSKY_WEBHOOK_RETRY_BASE="1")
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


def documented_verify(now: float):
    """The receiver's check exactly as docs/operating.md shows it, its clock set to `now`."""
    text = (ROOT / "docs" / "operating.md").read_text()
    code = text[text.index("## Webhooks") :].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "docs/operating.md", "exec"), namespace)
    namespace["time"] = types.SimpleNamespace(time=lambda: now)
    return namespace["verify"]


def _ended_job(url: str, domain: str = "late.test") -> None:
    """A job that ends (cancelled) at once: one delivery per webhook of TENANT."""
    in_transaction(
        url,
        jobs.cancel,
        in_transaction(url, jobs.add_jobs, TENANT, [domain], run_id="r", options={})[0].job_id,
    )


def test_the_signature_covers_the_delivery_id_the_event_and_the_timestamp(
    sqlite_url, receiver_factory
):
    receiver = receiver_factory([200])
    hook = in_transaction(sqlite_url, hooks.add, TENANT, receiver.url)
    _ended_job(sqlite_url)
    assert _deliver(sqlite_url, hook_env(sqlite_url))["delivered"] == 1
    [(headers, body)] = receiver.received
    stamp = int(headers["X-ScraperSky-Timestamp"])
    payload = documented_verify(now=stamp)(hook.secret, headers, body)
    [delivery] = rows(sqlite_url, "select id, event from webhook_deliveries")
    # The id and the event are in the signed body (the headers only repeat them).
    assert (payload["delivery_id"], payload["event"]) == (delivery["id"], "job.ended")
    assert headers["X-ScraperSky-Delivery"] == str(delivery["id"])
    forged = body.replace(b'"delivery_id":%d' % delivery["id"], b'"delivery_id":999')
    assert forged != body
    for changed in (
        (headers, forged),
        (headers, body.replace(b'"job.ended"', b'"batch.ended"')),
        ({**headers, "X-ScraperSky-Timestamp": str(stamp + 1)}, body),
    ):
        with pytest.raises(ValueError, match="bad signature"):
            documented_verify(now=stamp)(hook.secret, *changed)
    # The ±5-minute window.
    for now in (stamp - 300, stamp + 300):
        assert documented_verify(now)(hook.secret, headers, body) == payload
    for now in (stamp - 301, stamp + 301):
        with pytest.raises(ValueError, match="stale timestamp"):
            documented_verify(now)(hook.secret, headers, body)


def test_webhook_endpoints_must_be_https_unless_the_operator_allows_http(
    sqlite_url, receiver_factory
):
    strict = scrapy_env(sqlite_url)
    refused = run_command(
        "webhooks", "add", "http://hooks.example/a", "--tenant-id", TENANT, env=strict
    )
    assert refused.returncode == 2 and "must be https" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert (
        run_command(
            "webhooks", "add", "https://hooks.example/a", "--tenant-id", TENANT, env=strict
        ).returncode
        == 0
    )
    for allowing in (
        {"SCRAPERSKY_WEBHOOK_ALLOW_HTTP": "true"},
        {"SCRAPERSKY_ALLOWED_NETWORKS": "10.1.2.0/24"},
    ):
        added = run_command(
            "webhooks",
            "add",
            "http://hooks.example/b",
            "--tenant-id",
            TENANT,
            env={**strict, **allowing},
        )
        assert added.returncode == 0, added.stderr
    # An http endpoint already stored is refused at delivery, not called, and not retried.
    receiver = receiver_factory([200])
    in_transaction(sqlite_url, hooks.remove, 1)
    in_transaction(sqlite_url, hooks.remove, 2)
    in_transaction(sqlite_url, hooks.remove, 3)
    in_transaction(sqlite_url, hooks.add, TENANT, receiver.url)
    _ended_job(sqlite_url)
    assert _deliver(sqlite_url, strict) == {"delivered": 0, "pending": 0, "failed": 1}
    assert receiver.received == []
    [failed] = rows(sqlite_url, "select status, last_error from webhook_deliveries")
    assert (
        failed["status"] == "failed" and "plain http; webhooks need https" in failed["last_error"]
    )


class RawReceiver:
    """A loopback endpoint that answers each connection with `reply(socket)`; records when each
    connection came and when the sender let go of it."""

    def __init__(self, reply) -> None:
        self.reply, self.accepted, self.released = reply, [], []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(time.time())
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            try:
                self.reply(connection, self.stop)
            except OSError:
                pass
            self.released.append(time.time())

    def close(self) -> None:
        self.stop.set()
        self.server.close()


def drip(every: float):
    """An answer that never ends: one byte of a 200 every `every` seconds, until the sender leaves."""

    def reply(connection: socket.socket, stop: threading.Event) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Padding: " + b"." * 10000
        for byte in head:
            connection.sendall(bytes([byte]))
            if stop.wait(every):
                return

    return reply


@pytest.fixture
def raw_receiver():
    made: list[RawReceiver] = []

    def make(reply) -> RawReceiver:
        made.append(RawReceiver(reply))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def test_a_call_ends_at_its_total_deadline_whatever_the_receiver_drips(sqlite_url, raw_receiver):
    dripping = raw_receiver(drip(0.2))
    in_transaction(sqlite_url, hooks.add, TENANT, dripping.url)
    _ended_job(sqlite_url)
    env = hook_env(sqlite_url, SCRAPERSKY_WEBHOOK_DEADLINE="2", SCRAPERSKY_WEBHOOK_RETRY_BASE="60")
    started = time.monotonic()
    assert _deliver(sqlite_url, env) == {"delivered": 0, "pending": 1, "failed": 0}
    took = time.monotonic() - started
    # A byte every 0.2 s keeps every read well within any per-read timeout; the call still ends
    # at its 2 s deadline, and the receiver sees the connection go.
    assert 2 <= took < 2 + 1.5, took
    assert rows(sqlite_url, "select attempts, last_error from webhook_deliveries") == [
        {"attempts": 1, "last_error": "deadline: no complete answer within 2 s"}
    ]
    wait_for(lambda: dripping.released, timeout=5, every=0.1)


def test_an_answer_past_the_size_cap_fails_the_attempt(sqlite_url, raw_receiver):
    def long_body(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4000000\r\n\r\n")
        for _ in range(1000):
            connection.sendall(b"x" * 4000)

    def endless_head(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        for index in range(100000):
            connection.sendall(b"X-Filler-%d: yes\r\n" % index)

    for reply in (long_body, endless_head):
        in_transaction(sqlite_url, hooks.add, TENANT, raw_receiver(reply).url)
    _ended_job(sqlite_url)
    env = hook_env(
        sqlite_url,
        SCRAPERSKY_WEBHOOK_MAX_RESPONSE_BYTES="4096",
        SCRAPERSKY_WEBHOOK_RETRY_BASE="60",
    )
    assert _deliver(sqlite_url, env) == {"delivered": 0, "pending": 2, "failed": 0}
    assert (
        rows(sqlite_url, "select attempts, last_error from webhook_deliveries order by id")
        == [{"attempts": 1, "last_error": "answer larger than 4096 bytes"}] * 2
    )


def test_a_claim_lapses_with_its_lease_and_ends_failed_after_the_attempt_bound(
    sqlite_url, receiver_factory
):
    receiver = receiver_factory([200])
    first = in_transaction(sqlite_url, hooks.add, TENANT, receiver.url)
    second = in_transaction(sqlite_url, hooks.add, TENANT, receiver.url)
    _ended_job(sqlite_url, "a.test")
    _ended_job(sqlite_url, "b.test")
    _ended_job(sqlite_url, "c.test")
    # Three deliveries left in `sending` an hour ago by senders that died: where the lease
    # (next_attempt_at) lapsed, at the bound and below it, and one whose lease still runs.
    hour_ago = jobs.now() - timedelta(hours=1)
    hour_on = jobs.now() + timedelta(hours=1)
    by_webhook = {first.id: [], second.id: []}
    for row in rows(sqlite_url, "select id, webhook_id from webhook_deliveries order by id"):
        by_webhook[row["webhook_id"]].append(row["id"])
    at_bound, below_bound, _ = by_webhook[first.id]
    running = by_webhook[second.id][0]
    with session_scope(sqlite_url) as session:
        for ident, attempts, lease in (
            (at_bound, hooks.MAX_ATTEMPTS, hour_ago),
            (below_bound, 2, hour_ago),
            (running, 1, hour_on),
        ):
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == ident)
                .values(
                    status="sending", attempts=attempts, next_attempt_at=lease, updated_at=hour_ago
                )
            )
        # Everything else of the first webhook is done, the second's others wait for later.
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.not_in((at_bound, below_bound, running)))
            .values(status="delivered")
        )
    assert _deliver(sqlite_url, hook_env(sqlite_url)) == {"delivered": 1, "pending": 0, "failed": 0}
    outcome = {
        r["id"]: r
        for r in rows(sqlite_url, "select id, status, attempts, last_error from webhook_deliveries")
    }
    assert outcome[at_bound]["status"] == "failed"
    assert outcome[at_bound]["attempts"] == hooks.MAX_ATTEMPTS
    assert outcome[at_bound]["last_error"].startswith(
        f"gave up after {hooks.MAX_ATTEMPTS} attempts: the last sender never recorded an outcome"
    )
    assert (outcome[below_bound]["status"], outcome[below_bound]["attempts"]) == ("delivered", 3)
    assert (outcome[running]["status"], outcome[running]["attempts"]) == ("sending", 1)
    assert [json.loads(body)["delivery_id"] for _, body in receiver.received] == [below_bound]


def _utc(value) -> datetime:
    """A stored timestamp as a naive UTC datetime (SQLite hands back text)."""
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return stamp.replace(tzinfo=None) - (stamp.utcoffset() or timedelta())


def test_a_dripping_webhook_of_one_tenant_holds_no_run_slot_of_another(
    scrapyd, sqlite_url, web, raw_receiver, receiver_factory, tmp_path
):
    """Tenant A's endpoint answers one byte every second and never finishes; the node has one
    run slot. A's run must end without waiting on it, so tenant B's scan, queued behind A's,
    runs; A's delivery ends its attempt at the deadline; B's own webhook is late by at most that."""
    deadline = 10
    tenant_a, tenant_b = TENANT, OTHER
    demo_site(web, "shopa.test")
    demo_site(web, "shopb.test")
    dripping = raw_receiver(drip(1.0))
    in_transaction(sqlite_url, hooks.add, tenant_a, dripping.url)
    prompt = receiver_factory([200])
    in_transaction(sqlite_url, hooks.add, tenant_b, prompt.url)
    key_a, key_b = (
        Bearer(in_transaction(sqlite_url, keys.create_key, t, "t")[1]) for t in (tenant_a, tenant_b)
    )
    env = hook_env(
        sqlite_url,
        web,
        SCRAPERSKY_WEBHOOK_DEADLINE=str(deadline),
        SCRAPERSKY_WEBHOOK_RETRY_BASE="600",
    )
    [node] = scrapyd(tmp_path / "nodes", 1, env, max_proc=1)
    try:
        scan_a = node.post("scan.json", {"domain": "shopa.test"}, auth=key_a).json()
        scan_b = node.post("scan.json", {"domain": "shopb.test"}, auth=key_b).json()
        assert scan_a["status"] == scan_b["status"] == "ok", (scan_a, scan_b)

        def ended(job_id: str):
            [job] = rows(sqlite_url, "select * from jobs where job_id = :j", j=job_id)
            return job if job["status"] not in ("pending", "running") else None

        # Generous: before the change B never ran (A's run waited on the drip for ever).
        try:
            job_b = wait_for(lambda: ended(scan_b["job_id"]), timeout=90, every=0.5)
        except AssertionError:
            [state] = rows(
                sqlite_url, "select status from jobs where job_id = :j", j=scan_b["job_id"]
            )
            raise AssertionError(f"tenant B's scan still {state['status']} after 90 s") from None
        job_a = ended(scan_a["job_id"])
        assert job_a["status"] == job_b["status"] == "complete", (job_a, job_b)
        # One slot: B's run started only once A's run had exited. A run that waited on the
        # delivery, even for one bounded attempt, would have kept B out for a deadline or more.
        gap = (_utc(job_b["started_at"]) - _utc(job_a["finished_at"])).total_seconds()
        assert gap < deadline, gap

        def first_attempt_over():
            found = rows(
                sqlite_url,
                "select d.status, d.attempts, d.last_error, d.updated_at, d.delivered_at, w.tenant_id "
                "from webhook_deliveries d join webhooks w on w.id = d.webhook_id",
            )
            mine = {r["tenant_id"]: r for r in found}
            done = (
                tenant_a in mine
                and mine[tenant_a]["attempts"]
                and mine[tenant_a]["status"] != "sending"
            )
            return mine if done and mine.get(tenant_b, {}).get("status") == "delivered" else None

        delivered = wait_for(first_attempt_over, timeout=4 * deadline, every=0.5)
    finally:
        stop_all([node])
    slow, quick = delivered[tenant_a], delivered[tenant_b]
    # A's delivery: pending for a retry, its reason the deadline, its attempt within the deadline.
    assert (slow["status"], slow["attempts"]) == ("pending", 1)
    assert slow["last_error"] == f"deadline: no complete answer within {deadline} s"
    [accepted] = dripping.accepted
    attempt = _utc(slow["updated_at"]) - datetime.fromtimestamp(accepted, UTC).replace(tzinfo=None)
    assert deadline - 1 <= attempt.total_seconds() < deadline + 2, attempt
    # A's run was gone (B ran in the only slot) before A's delivery attempt ended.
    assert _utc(job_b["started_at"]) < _utc(slow["updated_at"])
    # B's delivery waited at most one of A's deadlines and one pass of the node's loop (5 s).
    late = (_utc(quick["delivered_at"]) - _utc(job_b["finished_at"])).total_seconds()
    assert late < deadline + 5 + 2, late
