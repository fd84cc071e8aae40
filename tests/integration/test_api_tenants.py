"""The HTTP API as tenants and attackers see it, over real HTTP against a real Scrapyd node:
API keys, tenant isolation by every id form, CORS and cross-site requests, bodies refused before
they are read, hostile bodies and paths, framing headers on every answer, the queue's order and
quotas, and runs started through Scrapyd never reading the node's files."""

from __future__ import annotations

import base64
import socket
import time

import pytest
import requests
from sqlalchemy import update

from scrapersky.db import jobs, keys
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.db.models import LISTING_COLUMNS, Job
from scrapersky.db.schema import upgrade
from tests.conftest import scrapy, scrapy_env
from tests.support.db import rows, scalar
from tests.support.fixture_web import FixtureWeb, demo_site
from tests.support.in_process import run_command
from tests.support.scrapyd_nodes import Bearer, stop_all

ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "b0b00000-0000-4000-8000-000000000002"
APP_ORIGIN = "https://app.scrapersky.test"
MAX_BODY = 2 * 1024 * 1024  # above the project egg, which addversion.json must still take
API_BODY = 256 * 1024  # every other endpoint's cap on this node


@pytest.fixture(scope="module")
def sites():
    with FixtureWeb() as web:
        for name in ("shared.test", "alice.test", "bob.test"):
            demo_site(web, name)
        yield web


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'scrapersky.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def node(scrapyd, db, sites, tmp_path_factory):
    env = scrapy_env(
        db,
        sites,
        SCRAPERSKY_CORS_ORIGINS=APP_ORIGIN,
        SCRAPERSKY_MAX_REQUEST_BYTES=str(MAX_BODY),
        SCRAPERSKY_MAX_API_REQUEST_BYTES=str(API_BODY),
    )
    [started] = scrapyd(tmp_path_factory.mktemp("node"), 1, env)
    yield started
    stop_all([started])


@pytest.fixture(scope="module")
def tenants(db):
    """A key each for Alice, Bob, and the operator."""
    return {
        who: Bearer(in_transaction(db, keys.create_key, tenant, who)[1])
        for who, tenant in (("alice", ALICE), ("bob", BOB), ("operator", None))
    }


def wait_ended(node, key, job_id: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = node.get("jobstatus.json", job=job_id, auth=key).json()
        if answer["state"] not in ("pending", "running"):
            return answer
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


@pytest.fixture(scope="module")
def scanned(node, tenants):
    """Alice scans shared.test and alice.test; Bob scans shared.test and bob.test in a batch."""
    alice = [
        node.post("scan.json", {"domain": name}, auth=tenants["alice"]).json()
        for name in ("shared.test", "alice.test")
    ]
    bob_batch = node.post(
        "batch.json", json={"domains": ["shared.test", "bob.test"]}, auth=tenants["bob"]
    ).json()
    for answer in alice:
        assert wait_ended(node, tenants["alice"], answer["job_id"])["state"] == "complete"
    deadline = time.monotonic() + 90
    while (
        node.get("batchstatus.json", batch=bob_batch["batch_id"], auth=tenants["bob"]).json()[
            "state"
        ]
        != "complete"
    ):
        assert time.monotonic() < deadline, "Bob's batch did not complete"
        time.sleep(0.3)
    return {"alice": alice, "bob_batch": bob_batch}


def assert_error(response, code: int) -> dict:
    assert response.status_code == code, response.text
    body = response.json()
    assert body["status"] == "error" and "\n" not in body["message"]
    return body


def test_keys_are_required_and_revoked_keys_refused(node, db, tenants):
    for credentials in (None, Bearer("ssk_made-up"), Bearer(""), ("user", "password")):
        assert_error(node.get("jobstatus.json", job="1", auth=credentials), 401)
        assert_error(node.post("scan.json", {"domain": "alice.test"}, auth=credentials), 401)
    assert (
        node.get("jobstatus.json", job="1", auth=None)
        .headers["WWW-Authenticate"]
        .startswith("Bearer")
    )
    env = scrapy_env(db)
    created = scrapy("keys", "create", "--tenant-id", ALICE, "--name", "short-lived", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    key_id = created.stderr.split()[1]
    assert key.startswith("ssk_") and key_id.startswith("key_")
    assert node.get("domain.json", domain="nothing.test", auth=Bearer(key)).status_code == 404
    listed = scrapy("keys", "list", env=env)
    assert key_id in listed.stdout and key not in listed.stdout and "active" in listed.stdout
    revoked = scrapy("keys", "revoke", key_id, env=env)
    assert revoked.returncode == 0 and f"key {key_id} revoked" in revoked.stdout
    assert_error(node.get("domain.json", domain="nothing.test", auth=Bearer(key)), 401)
    assert "revoked" in scrapy("keys", "list", env=env).stdout
    assert key not in "".join(
        str(row) for row in rows(db, "select * from api_keys")
    )  # only its digest


def test_keys_command_rejects_bad_arguments(db):
    env = scrapy_env(db)
    # In this process (tests.support.in_process); the unknown key below is a real `scrapy keys`.
    for args in (
        ["create"],
        ["create", "--tenant-id", "acme"],
        ["create", "--tenant-id", ALICE, "--operator"],
    ):
        result = run_command("keys", *args, env=env)
        assert (
            result.returncode == 2
            and result.stderr.startswith("error: ")
            and "Traceback" not in result.stderr
        )
    unknown = scrapy("keys", "revoke", "key_0000", env=env)
    assert unknown.returncode == 3 and "no key with id" in unknown.stderr


def test_tenants_never_see_each_others_jobs_by_any_id(node, db, tenants, scanned):
    bob_jobs = rows(db, "select id, job_id, run_id from jobs where tenant_id = :t", t=BOB)
    assert bob_jobs
    unknown = assert_error(
        node.get("jobstatus.json", job="no-such-job", auth=tenants["alice"]), 404
    )
    for job in bob_jobs:
        for ident in (str(job["id"]), job["job_id"], job["run_id"]):
            refused = assert_error(
                node.get("jobstatus.json", job=ident, auth=tenants["alice"]), 404
            )
            # The same answer an unknown id gets, but for the id itself.
            assert refused["message"].replace(ident, "ID") == unknown["message"].replace(
                "no-such-job", "ID"
            )
            assert node.get("jobstatus.json", job=ident, auth=tenants["bob"]).status_code == 200
            assert (
                node.get("jobstatus.json", job=ident, auth=tenants["operator"]).status_code == 200
            )
    # Walking the integer ids finds only Alice's own jobs.
    highest = scalar(db, "select max(id) from jobs")
    seen = set()
    for number in range(1, highest + 3):
        response = node.get("jobstatus.json", job=str(number), auth=tenants["alice"])
        if response.status_code == 200:
            assert response.json()["job"]["tenant_id"] == ALICE
            seen.add(number)
        else:
            assert_error(response, 404)
    assert seen == {r["id"] for r in rows(db, "select id from jobs where tenant_id = :t", t=ALICE)}


def test_tenants_never_see_each_others_batches(node, db, tenants, scanned):
    batch = scanned["bob_batch"]
    [row] = rows(db, "select id from batch_jobs where batch_id = :b", b=batch["batch_id"])
    some_run = rows(db, "select run_id from jobs where batch_id = :b", b=row["id"])[0]["run_id"]
    for ident in (batch["batch_id"], str(row["id"]), some_run):
        assert_error(node.get("batchstatus.json", batch=ident, auth=tenants["alice"]), 404)
        assert (
            node.get("batchstatus.json", batch=ident, auth=tenants["bob"]).json()["batch_id"]
            == batch["batch_id"]
        )
    for number in range(1, scalar(db, "select max(id) from batch_jobs") + 3):
        assert_error(node.get("batchstatus.json", batch=str(number), auth=tenants["alice"]), 404)
    # A tenant key naming another tenant is refused, whatever it asks for.
    assert_error(
        node.get("batchstatus.json", batch=batch["batch_id"], tenant_id=BOB, auth=tenants["alice"]),
        403,
    )
    assert_error(
        node.post("scan.json", {"domain": "alice.test", "tenant_id": BOB}, auth=tenants["alice"]),
        403,
    )


def test_tenants_read_only_their_own_domains_and_pages(node, db, tenants, scanned):
    ids = {
        tenant: scalar(
            db, "select id from domains where domain = 'shared.test' and tenant_id = :t", t=tenant
        )
        for tenant in (ALICE, BOB)
    }
    for who, tenant in (("alice", ALICE), ("bob", BOB)):
        domain = node.get("domain.json", domain="shared.test", auth=tenants[who]).json()
        assert (domain["domain"]["id"], domain["domain"]["tenant_id"]) == (ids[tenant], tenant)
        assert domain["sitemap_files"] and domain["domain"]["title"]
        pages = node.get("pages.json", domain="shared.test", auth=tenants[who]).json()["pages"]
        stored = {
            r["id"] for r in rows(db, "select id from pages where domain_id = :d", d=ids[tenant])
        }
        assert {page["id"] for page in pages} == stored
    assert_error(node.get("domain.json", domain="bob.test", auth=tenants["alice"]), 404)
    assert_error(node.get("pages.json", domain="bob.test", auth=tenants["alice"]), 404)
    bob_sitemap = scalar(db, "select id from sitemap_files where domain_id = :d", d=ids[BOB])
    assert_error(
        node.get(
            "pages.json", domain="shared.test", sitemap=str(bob_sitemap), auth=tenants["alice"]
        ),
        404,
    )
    # The operator reads any tenant's, naming it.
    seen = node.get(
        "domain.json", domain="bob.test", tenant_id=BOB, auth=tenants["operator"]
    ).json()
    assert seen["domain"]["tenant_id"] == BOB


def test_pages_come_a_page_at_a_time_with_filters(node, db, tenants, scanned):
    domain_id = scalar(
        db, "select id from domains where domain = 'alice.test' and tenant_id = :t", t=ALICE
    )
    stored = rows(
        db,
        "select id, lastmod, sitemap_file_id from pages where domain_id = :d order by id",
        d=domain_id,
    )
    assert len(stored) >= 3
    collected, after = [], None
    while True:
        params = {"domain": "alice.test", "limit": "2", **({"after": str(after)} if after else {})}
        answer = node.get("pages.json", auth=tenants["alice"], **params).json()
        assert len(answer["pages"]) <= 2
        # Every column a sitemap listing owns is served, as the exports serve them.
        assert all(set(LISTING_COLUMNS) <= set(page) for page in answer["pages"])
        collected += [page["id"] for page in answer["pages"]]
        after = answer["next_after"]
        if after is None:
            break
    assert collected == [r["id"] for r in stored]
    dated = sorted({r["lastmod"] for r in stored if r["lastmod"]})
    since = str(dated[-1])[:10]
    recent = node.get(
        "pages.json", domain="alice.test", lastmod_since=since, auth=tenants["alice"]
    ).json()["pages"]
    assert recent and all(page["lastmod"][:10] >= since for page in recent)
    assert len(recent) == sum(1 for r in stored if r["lastmod"] and str(r["lastmod"])[:10] >= since)
    sitemap = stored[0]["sitemap_file_id"]
    listed = node.get(
        "pages.json", domain="alice.test", sitemap=str(sitemap), auth=tenants["alice"]
    ).json()["pages"]
    assert {page["id"] for page in listed} == {
        r["id"] for r in stored if r["sitemap_file_id"] == sitemap
    }
    assert_error(
        node.get("pages.json", domain="alice.test", lastmod_since="soon", auth=tenants["alice"]),
        400,
    )
    assert_error(
        node.get("pages.json", domain="alice.test", limit="100000", auth=tenants["alice"]), 400
    )


def test_batch_answers_are_paginated(node, tenants, scanned):
    batch_id = scanned["bob_batch"]["batch_id"]
    first = node.get("batchstatus.json", batch=batch_id, limit="1", auth=tenants["bob"]).json()
    assert (
        len(first["batch"]["jobs"]) == 1 and first["next_after"] == first["batch"]["jobs"][0]["id"]
    )
    rest = node.get(
        "batchstatus.json", batch=batch_id, after=str(first["next_after"]), auth=tenants["bob"]
    ).json()
    assert rest["next_after"] is None
    domains = {job["domain"] for job in first["batch"]["jobs"] + rest["batch"]["jobs"]}
    assert domains == {"shared.test", "bob.test"}


def test_cross_origin_requests_are_refused_unless_allowed(node, db, tenants):
    before = scalar(db, "select count(*) from jobs")
    for headers in (
        {"Origin": "https://evil.test"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        assert_error(
            node.post(
                "scan.json", {"domain": "alice.test"}, auth=tenants["alice"], headers=headers
            ),
            403,
        )
        # Scrapyd's own endpoints too: a page elsewhere cannot schedule runs on a node without auth.
        assert_error(
            node.post(
                "schedule.json",
                {"project": "scrapersky", "spider": "sitemap", "domain": "alice.test"},
                headers=headers,
            ),
            403,
        )
    assert scalar(db, "select count(*) from jobs") == before
    assert node.jobs()["pending"] == []
    foreign = node.get("health.json", headers={"Origin": "https://evil.test"})
    assert foreign.status_code == 200 and "Access-Control-Allow-Origin" not in foreign.headers
    assert (
        "Access-Control-Allow-Origin"
        not in node.get("daemonstatus.json", headers={"Origin": "https://evil.test"}).headers
    )
    allowed = node.session.options(
        f"{node.url}/scan.json", headers={"Origin": APP_ORIGIN}, timeout=10
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    answer = node.post(
        "scan.json", {"domain": "alice.test"}, auth=tenants["alice"], headers={"Origin": APP_ORIGIN}
    )
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    wait_ended(node, tenants["alice"], answer.json()["job_id"])


def _raw_exchange(node, head: bytes, body_chunks=()) -> bytes:
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as conn:
        conn.sendall(head)
        try:
            for chunk in body_chunks:
                conn.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the body was read: the answer is already waiting
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def _head(node, path: str, length: int | None, authorization: str = "") -> bytes:
    """A request's line and headers, with a Content-Length (None: chunked) and no body yet."""
    size = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    login = f"Authorization: {authorization}\r\n" if authorization else ""
    return (
        f"POST /{path} HTTP/1.1\r\nHost: 127.0.0.1:{node.port}\r\n"
        f"Content-Type: application/json\r\n{login}{size}\r\n\r\n"
    ).encode()


def _basic(node) -> str:
    return "Basic " + base64.b64encode(f"{node.username}:{node.password}".encode()).decode()


def test_bodies_are_refused_before_they_are_read(node, tenants):
    """Not a byte of these bodies is sent: the answer comes from the request's head alone."""
    bearer = f"Bearer {tenants['alice'].key}"
    sixteen = 16 * 1024 * 1024  # a JSON body this big once stalled the reactor before any check
    refusals = [
        # No login at all: nothing is read, wherever it goes.
        *((path, sixteen, "", 401, b"login") for path in ("scan.json", "batch.json")),
        *((path, sixteen, "", 401, b"login") for path in ("schedule.json", "addversion.json")),
        # A key that is no key: checked while the body waits, unread.
        ("scan.json", API_BODY, "Bearer ssk_made-up", 401, b"unknown or revoked API key"),
        ("batch.json", 100, "Bearer ssk_made-up", 401, b"unknown or revoked API key"),
        # An API key is no login for Scrapyd's own endpoints.
        ("schedule.json", 100, bearer, 401, b"login"),
        ("addversion.json", 100, bearer, 401, b"login"),
        ("addversion.json", 100, "Basic " + base64.b64encode(b"scrapyd:wrong").decode(), 401, b""),
        # Tenant services: the small cap.
        ("batch.json", 300 * 1024 * 1024, bearer, 413, b"SCRAPERSKY_MAX_API_REQUEST_BYTES"),
        ("scan.json", API_BODY + 1, bearer, 413, b"SCRAPERSKY_MAX_API_REQUEST_BYTES"),
        # The operator: the egg's cap for addversion.json alone.
        ("addversion.json", MAX_BODY + 1, _basic(node), 413, b"SCRAPERSKY_MAX_REQUEST_BYTES"),
        ("schedule.json", API_BODY + 1, _basic(node), 413, b"SCRAPERSKY_MAX_API_REQUEST_BYTES"),
    ]
    for path, length, authorization, code, fragment in refusals:
        answer = _raw_exchange(node, _head(node, path, length, authorization))
        assert answer.startswith(b"HTTP/1.1 %d " % code), (path, authorization[:6], answer[:300])
        assert fragment in answer and b"x-frame-options: DENY" in answer, answer[:600]
    piece = b"%x\r\n%b\r\n" % (64 * 1024, b"x" * 64 * 1024)
    chunked = _raw_exchange(
        node, _head(node, "scan.json", None, bearer), [piece] * (API_BODY // (64 * 1024) + 8)
    )
    assert chunked.startswith(b"HTTP/1.1 413 "), chunked[:200]
    # Under the cap, a body is read as usual.
    fitting = node.post(
        "scan.json",
        {"domain": "alice.test", "padding": "x" * (API_BODY - 1024)},
        auth=tenants["alice"],
    )
    assert fitting.status_code == 200, fitting.text
    wait_ended(node, tenants["alice"], fitting.json()["job_id"])


def test_hostile_bodies_and_paths_get_one_line_4xx_never_500(node, db, tenants):
    alice = tenants["alice"]
    before = scalar(db, "select count(*) from jobs")
    bodies = [
        b"[" * 200_000,
        b'{"domain": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"domain": "\\ud800"}',
        b'{"\\udfff": "alice.test"}',
        b'{"domain": ["alice.test", "\\udbff\\u0000"]}',
    ]
    json_type = {"Content-Type": "application/json"}
    for body in bodies:
        for auth, code in ((None, 401), (Bearer("ssk_made-up"), 401), (tenants["alice"], 400)):
            for path in ("scan.json", "batch.json"):
                answer = node.post(path, data=body, headers=json_type, auth=auth)
                assert_error(answer, code)
                assert answer.headers["X-Frame-Options"] == "DENY"
    for path in ("console/%00", "console/a%00b.js", "logs/%00", "scan.json%00", "%00", "jobs%2500"):
        for auth in (None, (node.username, node.password)):
            answer = requests.get(f"{node.url}/{path}", auth=auth, timeout=10)
            assert answer.status_code in (400, 401, 404), (path, answer.status_code, answer.text)
            assert "Processing Failed" not in answer.text
    # Header bytes that are not UTF-8 (Latin-1 is what HTTP allows): an answer, never a dropped
    # connection or a 500.
    for name, path, code in (
        ("Authorization: Bearer \xc3\xa9\xff", "scan.json", 401),
        ("Authorization: Basic \xff\xff", "schedule.json", 401),
        ("Origin: https://\xff.test", "scan.json", 403),
        ("Content-Type: application/json\xff", "scan.json", 400),
    ):
        key = "" if name.startswith("Authorization") else f"Authorization: Bearer {alice.key}\r\n"
        form = "" if name.startswith("Content-Type") else "Content-Type: text/plain\r\n"
        head = (
            f"POST /{path} HTTP/1.1\r\nHost: 127.0.0.1:{node.port}\r\n{key}{name}\r\n{form}"
            "Content-Length: 17\r\nConnection: close\r\n\r\ndomain=alice.test"
        ).encode("latin-1")
        answer = _raw_exchange(node, head)
        assert answer.startswith(b"HTTP/1.1 %d " % code), (name, answer[:300])
        assert b'"status": "error"' in answer
    assert scalar(db, "select count(*) from jobs") == before


def test_every_answer_forbids_framing_and_sniffing(node, tenants):
    """Scrapyd's HTML pages share the console's origin: none may be framed by another page."""
    alice = tenants["alice"]
    url = node.url
    answers = {
        "Scrapyd's home page": node.get(""),
        "Scrapyd's jobs page": node.get("jobs"),
        "Scrapyd's logs listing": node.get("logs/"),
        "Scrapyd's JSON": node.get("daemonstatus.json"),
        "metrics": node.get("metrics"),
        "health.json": node.get("health.json"),
        "tenant JSON": node.get("jobstatus.json", job="1", auth=alice),
        "console page": requests.get(f"{url}/console/", timeout=10),
        "console script": requests.get(f"{url}/console/console.js", timeout=10),
        "console redirect": requests.get(f"{url}/console", allow_redirects=False, timeout=10),
        "404 page": node.get("no-such-page"),
        "401 of the operator login": requests.get(f"{url}/listjobs.json", timeout=10),
        "401 of a tenant service": requests.get(f"{url}/jobstatus.json?job=1", timeout=10),
        "403 cross-site": node.post(
            "scan.json", {}, auth=alice, headers={"Origin": "https://e.test"}
        ),
        "405": node.get("scan.json", auth=alice),
        "400 bad input": node.get("jobstatus.json", auth=alice),
        "421 rebinding": requests.get(url, headers={"Host": "evil.example"}, timeout=10),
        "400 NUL": requests.get(f"{url}/console/%00", timeout=10),
        "413 and 401 before the body": requests.post(f"{url}/scan.json", data="x", timeout=10),
    }
    seen = set()
    for kind, answer in answers.items():
        seen.add(answer.status_code)
        assert answer.headers.get("X-Frame-Options") == "DENY", kind
        assert "frame-ancestors 'none'" in answer.headers.get("Content-Security-Policy", ""), kind
        assert answer.headers.get("X-Content-Type-Options") == "nosniff", kind
    assert {200, 302, 400, 401, 403, 404, 405, 421} <= seen
    assert "text/html" in answers["Scrapyd's jobs page"].headers["Content-Type"]


def test_tenants_leave_the_queue_order_to_the_operator_and_stay_within_quotas(node, db, tenants):
    alice = tenants["alice"]
    for priority in ("inf", "-Infinity", "nan", "1e999"):
        refused = assert_error(
            node.post("scan.json", {"domain": "alice.test", "priority": priority}, auth=alice), 400
        )
        assert "finite" in refused["message"]
    over = [
        ("batch.json", {"domains": "alice.test", "slots": "99"}, 400, "slots must be <= 4"),
        (
            "batch.json",
            {"domains": ",".join(f"d{i}.alice.test" for i in range(10_001))},
            400,
            "SCRAPERSKY_MAX_BATCH_DOMAINS",
        ),
    ]
    for path, fields, code, fragment in over:
        refused = assert_error(node.post(path, fields, auth=alice), code)
        assert fragment in refused["message"]
    # A batch whose failed domains were tried 1 + SCRAPERSKY_MAX_RETRIES (3) times: no more retries.
    batch = in_transaction(db, jobs.create_batch, ALICE, ["tried.alice.test"], {})
    with session_scope(db) as session:
        session.execute(
            update(Job)
            .where(Job.batch_id == batch.id)
            .values(status="failed", attempts=4, error="homepage: HTTP 503")
        )
    refused = assert_error(node.post("retry.json", {"batch": batch.batch_id}, auth=alice), 429)
    assert "SCRAPERSKY_MAX_RETRIES" in refused["message"]
    assert in_transaction(db, jobs.requeue_failed, batch.id, max_attempts=4) == 0
    # One attempt left: requeued.
    assert in_transaction(db, jobs.requeue_failed, batch.id, max_attempts=5) == 1


def test_runs_started_through_scrapyd_never_read_the_callers_files(node, db, tmp_path):
    secret = tmp_path / "node-secret.txt"
    secret.write_text("alice.test\nsecret-token-line\n")
    before = scalar(db, "select count(*) from jobs")
    response = node.post(
        "schedule.json", {"project": "scrapersky", "spider": "sitemap", "domains_file": str(secret)}
    )
    run_id = response.json()["jobid"]
    node.wait_idle(60)
    assert scalar(db, "select count(*) from jobs") == before
    log = node.log() + node.run_log(
        run_id
    )  # the run's one-line error is on its stderr, in the node's log
    assert "domains_file is read from the local disk and is for the shell" in log
    assert "Process died: exitstatus=2" in log and run_id in log
    assert "secret-token-line" not in log


def test_rejected_input_is_kept_only_as_a_short_escaped_excerpt(node, db, tenants):
    garbage = "x" * 500 + "\x1b[31m\u202e" + "y" * 500
    answer = node.post(
        "batch.json", json={"domains": ["alice.test", garbage]}, auth=tenants["alice"]
    ).json()
    [job] = [
        j
        for j in node.get(
            "batchstatus.json", batch=answer["batch_id"], auth=tenants["alice"]
        ).json()["batch"]["jobs"]
        if j["status"] == "failed"
    ]
    assert len(job["domain"]) <= 80 and job["domain"].isascii() and job["domain"].isprintable()
    assert len(job["error"]) < 300 and "\x1b" not in job["error"]
    # Errors quote bad fields, briefly.
    for fields in (
        {"domain": "alice.test", "priority": garbage},
        {"domain": "alice.test", "max_pages": garbage},
        {"domain": garbage},
        {"domain": "alice.test", "tenant_id": garbage},
    ):
        refused = assert_error(node.post("scan.json", json=fields, auth=tenants["alice"]), 400)
        assert len(refused["message"]) <= 300 and "\x1b" not in refused["message"]
