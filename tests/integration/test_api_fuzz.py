"""Whatever is sent as an id or parameter, the HTTP API and `scrapy status` answer 200, 400,
403 or 404 with a one-line message: never a 500, never a traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scrapersky.db import jobs, keys
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.db.models import Domain, Page, SitemapFile
from scrapersky.db.schema import upgrade
from tests.conftest import migrated_postgres, scrapy, scrapy_env
from tests.support.in_process import run_command
from tests.support.scrapyd_nodes import Bearer, stop_all

TENANT = "c0ffee00-0000-4000-8000-000000000003"
ODD = [
    "²",
    "٣",
    "0",
    "-1",
    "1e5",
    " 7 ",
    "9999999999999999999999999",
    str(2**63),
    str(2**63 - 1),
    "0x10",
    "\x00",
    "a\x00b",
    "%00",
    "../../etc/passwd",
    "'; drop table jobs; --",
    "ssk_",
    "🙂",
    "\u202e1",
    "1" * 101,
]
# Any text but lone surrogates, which no HTTP client can send as UTF-8.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)
IDS = st.one_of(
    TEXT, st.sampled_from(ODD), st.integers().map(str), st.from_regex(r"\A[0-9]{15,40}\Z")
)
KNOWN: list[str] = []  # ids of rows that exist, filled in by the node fixture
ENDPOINTS = {
    "jobstatus.json": ("job", "tenant_id"),
    "batchstatus.json": ("batch", "after", "limit", "tenant_id"),
    "domain.json": ("domain", "tenant_id"),
    "pages.json": ("domain", "after", "limit", "lastmod_since", "sitemap", "tenant_id"),
}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def db(request, tmp_path_factory):
    if request.param == "postgres":
        yield from migrated_postgres()
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'scrapersky.db'}"
    upgrade(url)
    yield url


@pytest.fixture(scope="module")
def node(scrapyd, db, tmp_path_factory):
    """A node over a database holding a batch, a job, and a domain with a sitemap and a page,
    whose ids the fuzzing mixes in, so lookups that succeed go on to read the other parameters."""
    batch = in_transaction(db, jobs.create_batch, TENANT, ["shop1.test", "shop2.test"], {})
    [job] = in_transaction(db, jobs.add_jobs, TENANT, ["shop3.test"], run_id="run-1", options={})
    with session_scope(db) as session:
        domain = Domain(tenant_id=TENANT, domain="shop1.test")
        session.add(domain)
        session.flush()
        sitemap = SitemapFile(domain_id=domain.id, url="https://shop1.test/sitemap.xml")
        session.add(sitemap)
        session.flush()
        session.add(
            Page(domain_id=domain.id, sitemap_file_id=sitemap.id, url="https://shop1.test/a")
        )
    KNOWN[:] = [
        batch.batch_id,
        str(batch.id),
        job.job_id,
        str(job.id),
        "run-1",
        "shop1.test",
        sitemap.url,
        str(sitemap.id),
        TENANT,
    ]
    [started] = scrapyd(tmp_path_factory.mktemp("node"), 1, scrapy_env(db), deploy=False)
    started.keys = [
        Bearer(in_transaction(db, keys.create_key, TENANT)[1]),
        Bearer(in_transaction(db, keys.create_key, None)[1]),
    ]
    yield started
    stop_all([started])


def assert_clean(response) -> None:
    assert response.status_code in (200, 400, 403, 404), (response.status_code, response.text)
    body = response.json()
    assert body["status"] == ("ok" if response.status_code == 200 else "error")
    assert "\n" not in body.get("message", "") and "Traceback" not in response.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(endpoint=st.sampled_from(sorted(ENDPOINTS)), data=st.data(), operator=st.booleans())
def test_no_parameter_value_is_a_server_error(node, endpoint, data, operator):
    names = ENDPOINTS[endpoint]
    values = st.one_of(st.sampled_from(KNOWN), IDS)
    params = {
        name: data.draw(values, label=name)
        for name in data.draw(st.sets(st.sampled_from(names), min_size=1))
    }
    assert_clean(node.get(endpoint, auth=node.keys[operator], **params))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# argv cannot carry NUL, and a leading "-" makes an option (a usage error is right for those).
@given(ident=IDS.filter(lambda text: "\x00" not in text and not text.startswith("-")))
@example("²")
@example("9999999999999999999999999")
@example(str(2**63))
@example("\x1b[31m")
@example("\u202e1")
def test_status_answers_any_id_in_one_line(db, ident):
    # In this process (tests.support.in_process); the next test runs the real `scrapy status`.
    assert_one_line_status(run_command("status", ident, env=scrapy_env(db)))


def test_the_scrapy_executable_answers_an_odd_id_in_one_line(db):
    result = scrapy("status", "\u202e1\x1b[31m", env=scrapy_env(db), timeout=60)
    assert result.returncode == 3
    assert_one_line_status(result)


def assert_one_line_status(result) -> None:
    assert result.returncode in (0, 3), result.stderr
    if result.returncode:
        assert (
            result.stderr.startswith("error: no job or batch with id ")
            and result.stderr.count("\n") == 1
        )
    assert "Traceback" not in result.stderr


def test_numbers_beyond_bigint_are_bad_input(node):
    huge = "9" * 25
    for endpoint, params in (
        ("pages.json", {"domain": "shop1.test"}),
        ("batchstatus.json", {"batch": KNOWN[0]}),
    ):
        for name in ("after", "limit"):
            response = node.get(endpoint, auth=node.keys[0], **params, **{name: huge})
            assert_clean(response)
            assert (
                response.status_code == 400 and f"{name} must be <=" in response.json()["message"]
            )
