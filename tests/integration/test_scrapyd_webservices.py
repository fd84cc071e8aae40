"""scan.json, batch.json, jobstatus.json, batchstatus.json and health.json over real HTTP, mounted in
real Scrapyd nodes from the project's [services], with a generated operator login and a given one;
Scrapyd's own endpoints refused to a rebinding Host and to a request without the login."""

from __future__ import annotations

import stat
import time

import pytest
import requests

from scrapersky.db import keys
from scrapersky.db.engine import in_transaction
from tests.conftest import scrapy, scrapy_env
from tests.support.db import rows, scalar
from tests.support.fixture_web import FixtureWeb, demo_site
from tests.support.scrapyd_nodes import (
    PROJECT,
    Bearer,
    launch_node,
    migrate_as_shipped,
    project_egg,
    ready,
    stop_all,
)

TENANT = "3f2b8c1e-7a4d-4e6f-9b0a-1c2d3e4f5a6b"
USER, PASSWORD = "crawler", "s3cret-pass"


@pytest.fixture(scope="module")
def sites():
    with FixtureWeb() as web:
        for index in range(1, 9):
            demo_site(web, f"shop{index}.test")
        yield web


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """Migrated by the package as it ships, so a migration it lacks fails these tests."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'scrapersky.db'}"
    migrate_as_shipped(url)
    return url


@pytest.fixture(scope="module")
def operator(db):
    """An operator key: these tests act for several tenants."""
    return Bearer(in_transaction(db, keys.create_key, None, "tests")[1])


@pytest.fixture(scope="module")
def node(scrapyd, db, sites, operator, tmp_path_factory):
    """A node with the login it generated at its first start; its session sends the operator key."""
    [started] = scrapyd(tmp_path_factory.mktemp("open"), 1, scrapy_env(db, sites))
    started.session.auth = operator
    yield started
    stop_all([started])


@pytest.fixture(scope="module")
def auth_node(scrapyd, db, sites, node, tmp_path_factory):
    """A node given its login, whose scan.json and batch.json schedule on the other node (whose
    generated login it reads from that node's password file, as a client on its machine does)."""
    [started] = scrapyd(
        tmp_path_factory.mktemp("auth"),
        1,
        scrapy_env(db, sites),
        username=USER,
        password=PASSWORD,
        extra_env={"SCRAPYD_URLS": node.url, "SCRAPYD_PASSWORD_FILE": str(node.password_file)},
    )
    yield started
    stop_all([started])


def ended(answer: dict, key: str) -> bool:
    return answer[key]["status"] not in ("pending", "running")


def follow(node, endpoint: str, key: str, ident: str, timeout: float = 60.0) -> dict:
    """Poll a status endpoint until the job or batch has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = node.get(endpoint, **{key: ident})
        assert response.status_code == 200, response.text
        answer = response.json()
        if ended(answer, key):
            return answer
        time.sleep(0.3)
    raise AssertionError(f"{key} {ident} did not end in {timeout} s")


def assert_error(response, code: int, *fragments: str) -> None:
    assert response.status_code == code, response.text
    body = response.json()
    assert body["status"] == "error" and body["node_name"]
    message = body["message"]
    assert message and "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_health_reports_a_current_schema(node):
    response = node.get("health.json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["node_name"]
    assert body["revision"] == body["head"] is not None
    head = node.session.head(f"{node.url}/health.json", auth=node.auth, timeout=10)
    assert head.status_code == 200 and head.content == b""
    options = node.session.options(f"{node.url}/scan.json", timeout=10)
    assert options.status_code == 204 and options.headers["Allow"] == "OPTIONS, POST"


def test_health_is_503_when_the_database_is_behind_or_gone(scrapyd, tmp_path, sites):
    behind = launch_node(tmp_path / "behind", scrapy_env(f"sqlite:///{tmp_path / 'empty.db'}"))
    gone = launch_node(
        tmp_path / "gone", scrapy_env("postgresql+psycopg2://nobody@127.0.0.1:1/none")
    )
    try:
        for started in (behind, gone):
            ready(started)
        assert_error(behind.get("health.json"), 503, "scrapy migrate")
        # The driver's words stay in the node's log: callers learn only that it is unavailable.
        assert_error(gone.get("health.json"), 503, "database unavailable")
        refused = gone.post("scan.json", {"domain": "shop1.test"}, auth=Bearer("ssk_any"))
        assert_error(refused, 503, "database unavailable")
        assert refused.json()["message"] == "database unavailable"
        assert "Connection refused" in gone.log()
    finally:
        stop_all([behind, gone])


def test_scan_json_creates_a_job_and_runs_it_on_the_node(node, db):
    response = node.post(
        "scan.json", {"domain": "https://www.Shop1.test/", "tenant_id": TENANT, "max_pages": "2"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "ok" and answer["node_name"] == answer["node"]
    assert answer["job"]["status"] == "pending" and answer["job"]["domain"] == "shop1.test"
    job = follow(node, "jobstatus.json", "job", answer["job_id"])["job"]
    assert job["status"] == "complete", job["error"]
    assert job["run_id"] == answer["run_id"] and job["tenant_id"] == TENANT and job["domain_id"]
    assert job["result_data"] and job["stats"]
    # Requests per discovery step: shop1.test names its index in robots.txt, which lists two
    # urlsets; two common paths it does not name are guessed.
    steps = job["result_data"]["discovery_requests"]
    assert (steps["homepage"], steps["declared"], steps["index_children"]) == (1, 1, 2)
    assert steps["guesses"] == 2 and steps["robots"] >= 1
    assert steps["total"] == sum(v for k, v in steps.items() if k != "total")
    # The same job under each of its ids.
    for ident in (str(job["id"]), answer["run_id"]):
        assert node.get("jobstatus.json", job=ident).json()["job"]["job_id"] == answer["job_id"]
    [domain] = rows(db, "select tenant_id, status, title from domains where domain = 'shop1.test'")
    assert (domain["tenant_id"], domain["status"]) == (TENANT, "complete") and domain["title"]
    assert (
        scalar(
            db,
            "select count(*) from pages p join domains d on d.id = p.domain_id "
            "where d.domain = 'shop1.test' and p.fetched_at is not null",
        )
        == 2
    )
    node.wait_idle(30)  # the job ends before its run's process exits
    finished = {run["id"] for run in node.jobs()["finished"]}
    assert answer["run_id"] in finished
    # The run imported the egg the node was given, not a source tree.
    eggs = node.directory / "eggs" / "scrapersky"
    assert f"scrapersky from {eggs}" in node.run_log(answer["run_id"])


def test_scan_json_rejects_bad_input_without_creating_jobs(node, db):
    before = scalar(db, "select count(*) from jobs")
    cases = [
        ({}, "'domain' parameter is required"),
        ({"domain": "not a domain"}, "invalid domain"),
        ({"domain": "shop2.test", "tenant_id": "acme"}, "tenant_id must be a UUID"),
        ({"domain": "shop2.test", "max_pages": "-1"}, "max_pages must be >= 0"),
        ({"domain": "shop2.test", "max_pages": "many"}, "max_pages must be an integer"),
        ({"domain": "shop2.test", "render": "sometimes"}, "render must be one of"),
        ({"domain": "shop2.test", "priority": "high"}, "priority must be a number"),
    ]
    for fields, fragment in cases:
        assert_error(node.post("scan.json", fields), 400, fragment)
    assert_error(node.get("scan.json", domain="shop2.test"), 405, "POST")
    assert scalar(db, "select count(*) from jobs") == before


def test_unknown_ids_are_404_and_missing_ids_400(node):
    assert_error(node.get("jobstatus.json", job="no-such-job"), 404, "no-such-job")
    assert_error(node.get("batchstatus.json", batch="987654"), 404, "987654")
    assert_error(node.get("jobstatus.json"), 400, "'job' parameter is required")
    assert_error(node.get("batchstatus.json"), 400, "'batch' parameter is required")
    assert_error(node.get("jobstatus.json", job="1", tenant_id="acme"), 400, "tenant_id")


def test_job_answers_carry_the_state_and_links(node, db):
    """`status` is Scrapyd's "ok"; the job's own lifecycle state is `state`."""
    answer = node.post(
        "scan.json", json={"domain": "shop1.test", "tenant_id": TENANT, "max_pages": 1}
    ).json()
    assert answer["status"] == "ok" and answer["state"] == answer["job"]["status"] == "pending"
    polled = follow(node, "jobstatus.json", "job", answer["job_id"])
    assert polled["status"] == "ok" and polled["state"] == polled["job"]["status"] == "complete"
    links = polled["links"]
    assert links["job"] == f"jobstatus.json?job={answer['job_id']}"
    domain = node.session.get(f"{node.url}/{links['domain']}", timeout=30).json()
    assert domain["domain"]["domain"] == "shop1.test" and domain["domain"]["title"]
    pages = node.session.get(f"{node.url}/{links['pages']}", timeout=30).json()
    stored = {
        row["url"]
        for row in rows(
            db,
            "select p.url from pages p join domains d on d.id = p.domain_id "
            "where d.domain = 'shop1.test' and d.tenant_id = :t",
            t=TENANT,
        )
    }
    assert stored and {page["url"] for page in pages["pages"]} == stored


def test_json_bodies_are_checked_like_fields(node):
    assert_error(
        node.post("scan.json", data=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "not valid JSON",
    )
    assert_error(node.post("scan.json", json=["shop1.test"]), 400, "must be an object")
    assert_error(
        node.post("scan.json", json={"domain": {"name": "shop1.test"}}), 400, "domain must be"
    )
    assert_error(
        node.post("scan.json", json={"domain": "shop1.test", "max_pages": -1}),
        400,
        "max_pages must be >= 0",
    )


def test_batch_json_takes_repeated_and_listed_domains(node, db):
    response = node.post(
        "batch.json",
        {
            "domains": [
                "shop3.test",
                "shop4.test, shop5.test\nnot a domain\n# a comment",
                "SHOP3.test",
            ],
            "tenant_id": TENANT,
            "slots": "3",
        },
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["batch"]["total_domains"] == 4 and answer["batch"]["failed_domains"] == 1
    assert len(answer["runs"]) == 3 and {run["node"] for run in answer["runs"]} == {
        answer["node_name"]
    }
    batch = follow(node, "batchstatus.json", "batch", answer["batch_id"])["batch"]
    assert batch["status"] == "partial"
    assert (batch["completed_domains"], batch["failed_domains"]) == (3, 1)
    results = {job["domain"]: job for job in batch["jobs"]}
    assert set(results) == {"shop3.test", "shop4.test", "shop5.test", "not a domain"}
    assert "invalid domain" in results["not a domain"]["error"]
    for host in ("shop3.test", "shop4.test", "shop5.test"):
        assert results[host]["status"] == "complete" and results[host]["result_data"]
        assert results[host]["run_id"] in {run["run_id"] for run in answer["runs"]}
    # Integer id and the id of one of its runs find the same batch.
    some_run = results["shop3.test"]["run_id"]
    for ident in (str(batch["id"]), some_run):
        assert (
            node.get("batchstatus.json", batch=ident).json()["batch"]["batch_id"]
            == answer["batch_id"]
        )
    assert scalar(db, "select count(*) from domains where tenant_id = :t", t=TENANT) >= 3


def test_batch_json_takes_an_uploaded_file(node):
    upload = b"# weekly\nshop6.test\nhttp://shop6.test/\n\nshop7.test\n"
    response = node.post(
        "batch.json", {"max_pages": "0"}, files={"domains_file": ("list.txt", upload)}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["batch"]["total_domains"] == 2
    assert len(answer["runs"]) == 2  # two slots by default, never more runs than jobs
    batch = follow(node, "batchstatus.json", "batch", answer["batch_id"])["batch"]
    assert batch["status"] == "complete" and batch["completed_domains"] == 2


def test_batch_json_rejects_bad_input_without_creating_batches(node, db):
    before = scalar(db, "select count(*) from batch_jobs")
    assert_error(node.post("batch.json", {}), 400, "no domains given")
    assert_error(
        node.post("batch.json", {"domains": "# only a comment\n"}), 400, "no domains given"
    )
    assert_error(
        node.post("batch.json", {"domains": "bad domain, also bad"}), 400, "no valid domain"
    )
    assert_error(
        node.post("batch.json", {"domains": "shop8.test", "slots": "0"}), 400, "slots must be >= 1"
    )
    assert_error(
        node.post("batch.json", {"domains": "shop8.test", "render": "x"}),
        400,
        "render must be one of",
    )
    assert scalar(db, "select count(*) from batch_jobs") == before


def test_plain_schedule_json_scan_is_recorded_like_any_job(node, db):
    response = node.post(
        "schedule.json",
        {"project": "scrapersky", "spider": "sitemap", "domain": "shop8.test", "tenant_id": TENANT},
    )
    assert response.status_code == 200 and response.json()["status"] == "ok", response.text
    run_id = response.json()["jobid"]
    node.wait_idle(60)  # the run creates its job when it starts: wait for it to end
    job = follow(node, "jobstatus.json", "job", run_id)["job"]
    assert job["status"] == "complete", job["error"]
    assert (job["run_id"], job["domain"], job["tenant_id"]) == (run_id, "shop8.test", TENANT)
    assert scalar(db, "select status from domains where domain = 'shop8.test'") == "complete"


def test_auth_guards_every_endpoint(auth_node, operator):
    """Scrapyd's endpoints and health.json take the node's basic auth; the tenant services their API keys."""
    operator_gets = ["health.json", "daemonstatus.json", "listprojects.json"]
    tenant_gets = [
        "jobstatus.json?job=1",
        "batchstatus.json?batch=1",
        "domain.json?domain=shop1.test",
        "pages.json?domain=shop1.test",
    ]
    for credentials in (None, (USER, "wrong"), operator):
        for endpoint in operator_gets:
            assert auth_node.get(endpoint, auth=credentials).status_code == 401, endpoint
        assert (
            auth_node.post("schedule.json", {"project": "scrapersky"}, auth=credentials).status_code
            == 401
        )
    for credentials in (None, (USER, PASSWORD), Bearer("ssk_not-a-key")):
        for endpoint in tenant_gets:
            assert_error(auth_node.get(endpoint, auth=credentials), 401)
        for endpoint in ("scan.json", "batch.json"):
            assert_error(auth_node.post(endpoint, {"domain": "shop1.test"}, auth=credentials), 401)
    assert auth_node.get("health.json").json()["status"] == "ok"
    assert_error(auth_node.get("jobstatus.json", job="no-such-job", auth=operator), 404)


def test_scan_json_schedules_on_the_nodes_of_scrapyd_urls(auth_node, node, operator):
    answer = auth_node.post("scan.json", {"domain": "shop2.test"}, auth=operator).json()
    assert answer["node"] == node.url
    assert follow(node, "jobstatus.json", "job", answer["job_id"])["job"]["status"] == "complete"
    assert answer["run_id"] in {run["id"] for state in node.jobs().values() for run in state}
    assert answer["run_id"] not in {
        run["id"] for state in auth_node.jobs().values() for run in state
    }


def test_scrapy_batch_sends_the_credentials(auth_node, db, sites, tmp_path):
    listing = tmp_path / "domains.txt"
    listing.write_text("shop3.test\n")
    env = scrapy_env(db, sites, SCRAPYD_URLS=auth_node.url)
    refused = scrapy("batch", str(listing), env=env)
    assert refused.returncode == 6  # no Scrapyd node took the runs
    assert (
        "authentication failed (HTTP 401)" in refused.stderr and "Traceback" not in refused.stderr
    )
    done = scrapy(
        "batch",
        str(listing),
        "--wait",
        env={**env, "SCRAPYD_USERNAME": USER, "SCRAPYD_PASSWORD": PASSWORD},
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ended complete: 1 complete, 0 failed of 1" in done.stderr


OPERATOR_CALLS = {
    "schedule.json": ("post", {"project": PROJECT, "spider": "sitemap", "domain": "shop1.test"}),
    "listjobs.json": ("get", {"project": PROJECT}),
    "logs/": ("get", {}),
    "addversion.json": ("post", {"project": PROJECT, "version": "evil"}),
}


def call(node, endpoint: str, *, host: str | None = None, auth=None) -> requests.Response:
    """One of Scrapyd's operator endpoints, with an egg for addversion.json, a Host of our choosing."""
    method, fields = OPERATOR_CALLS[endpoint]
    headers = {"Host": host} if host else {}
    url = f"{node.url}/{endpoint}"
    if method == "get":
        return requests.get(url, params=fields, headers=headers, auth=auth, timeout=30)
    files = None
    if endpoint == "addversion.json":
        files = {"egg": ("scrapersky.egg", project_egg().read_bytes())}
    return requests.post(url, data=fields, files=files, headers=headers, auth=auth, timeout=60)


def assert_nothing_done(node, endpoint: str, before: dict) -> None:
    """Nothing was scheduled or deployed; the node's own login still works."""
    assert node.jobs() == before
    assert "evil" not in node.get("listversions.json", project=PROJECT).json()["versions"]
    if OPERATOR_CALLS[endpoint][0] == "get":
        assert call(node, endpoint, auth=node.auth).status_code == 200


@pytest.mark.parametrize("endpoint", sorted(OPERATOR_CALLS))
def test_a_rebinding_host_reaches_no_operator_endpoint(node, endpoint):
    """A page whose name rebinds to the node sends its own name in Host, here even with the
    node's login (which a browser may have cached for the node's address)."""
    (node.directory / "logs").mkdir(exist_ok=True)  # served at logs/ once any run has logged
    before = node.jobs()
    rebound = call(node, endpoint, host=f"evil.example:{node.port}", auth=node.auth)
    assert rebound.status_code == 421, (rebound.status_code, rebound.text[:200])
    assert "Host" in rebound.json()["message"]
    assert_nothing_done(node, endpoint, before)


@pytest.mark.parametrize("endpoint", sorted(OPERATOR_CALLS))
def test_no_operator_endpoint_answers_without_the_login(node, endpoint):
    """The right Host, no login: the node's shipped loopback configuration sets none, and the
    node then holds a login it generated."""
    (node.directory / "logs").mkdir(exist_ok=True)
    before = node.jobs()
    anonymous = call(node, endpoint, host=f"127.0.0.1:{node.port}")
    assert anonymous.status_code == 401, (anonymous.status_code, anonymous.text[:200])
    assert_nothing_done(node, endpoint, before)


def test_a_node_generates_its_login_once_and_its_clients_use_it(tmp_path, db):
    """First start: a password file, 0600, named in the log; second start: the same login; a
    `scrapy batch` run from the node's directory reads it, and one from elsewhere is refused."""
    directory = tmp_path / "node"
    env = scrapy_env(db)
    first = ready(launch_node(directory, env))
    try:
        path = directory / "dbs" / "scrapyd-password"
        assert first.password_file == path and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert first.username == "scrapyd" and len(first.password) >= 32
        assert f"generated into {path}" in first.log() and first.password not in first.log()
        login = (first.username, first.password)
    finally:
        stop_all([first])
    second = ready(launch_node(directory, env))
    try:
        assert (second.username, second.password) == login
        assert f"read from {path}" in second.log()
        assert second.get("listjobs.json", project=PROJECT, auth=None).status_code == 401
        second.deploy(project_egg())
        listing = tmp_path / "domains.txt"
        listing.write_text("shop1.test\n")
        client = {
            **env,
            "SCRAPYD_URLS": second.url,
            "SCRAPY_SETTINGS_MODULE": "scrapersky.settings",
            "SCRAPYD_PASSWORD_FILE": "",
        }
        elsewhere = scrapy("batch", str(listing), env=client, cwd=tmp_path)
        assert elsewhere.returncode != 0 and "authentication failed (HTTP 401)" in elsewhere.stderr
        here = scrapy("batch", str(listing), env=client, cwd=directory)
        assert here.returncode == 0, here.stderr[-2000:]
        runs = second.jobs()
        assert sum(len(state) for state in runs.values()) >= 1
    finally:
        stop_all([second])
    # A damaged password file: one line and exit 2, never a node without its login.
    path.write_text("no login here\n")
    damaged = launch_node(directory, env)
    assert damaged.process.wait(timeout=60) == 2
    assert damaged.log().splitlines()[-1] == (
        f"error: the Scrapyd password file {path} is not USERNAME:PASSWORD"
    )


def test_tenant_services_are_off_while_the_operator_endpoints_are_open(tmp_path, db, operator):
    """Scrapyd's stock application (no login) with the project's [services]: tenants get 503."""
    open_node = ready(
        launch_node(tmp_path / "stock", scrapy_env(db), application="scrapyd.app.application")
    )
    try:
        assert open_node.get("daemonstatus.json", auth=None).status_code == 200  # open, as stock
        for endpoint in ("jobstatus.json", "domain.json"):
            refused = open_node.get(endpoint, auth=operator, job="1", domain="shop1.test")
            assert_error(refused, 503, "operator endpoints have no login")
        refused = open_node.post("scan.json", {"domain": "shop1.test"}, auth=operator)
        assert_error(refused, 503, "operator endpoints have no login")
    finally:
        stop_all([open_node])
