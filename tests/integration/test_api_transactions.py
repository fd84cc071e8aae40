"""One GET = one read transaction, one POST = one write transaction: the transactions a request
opens on the database, counted by SQLAlchemy's `begin` event on the node's engine while the
request is served in this process (the call Service.render makes in its worker thread), over a
real SQLite file.

Besides the answer's read, a request opens the key lookup's read (it decides whether anything
else runs) and, for jobstatus.json and batchstatus.json, the reaper's write transaction before
the read (api/base.py says why); the schema check's connection is not counted here. A POST
writes in one transaction, committed before its runs are scheduled on a real Scrapyd node, and
may read its answer afterwards in read transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from scrapersky.api import batches, changes, jobs, results
from scrapersky.db import jobs as job_rows
from scrapersky.db import keys
from scrapersky.db.engine import get_engine, in_transaction, session_scope
from scrapersky.db.models import BatchJob, Domain, Job, SitemapFile
from scrapersky.db.schema import upgrade
from tests.conftest import scrapy_env
from tests.integration.test_error_model import node_settings, root
from tests.support.scrapyd_nodes import stop_all

TENANT = "c0ffee00-0000-4000-8000-00000000f001"


@pytest.fixture
def stored(sqlite_url) -> dict[str, Any]:
    """A tenant key, a batch of two jobs, a job of its own, and a domain with a sitemap file."""
    batch = in_transaction(sqlite_url, job_rows.create_batch, TENANT, ["one.test", "two.test"], {})
    [job] = in_transaction(
        sqlite_url, job_rows.add_jobs, TENANT, ["alone.test"], run_id="r1", options={}
    )
    with session_scope(sqlite_url) as session:
        domain = Domain(tenant_id=TENANT, domain="site.test")
        session.add(domain)
        session.flush()
        session.add(SitemapFile(domain_id=domain.id, url="https://site.test/sitemap.xml"))
    return {
        "url": sqlite_url,
        "key": in_transaction(sqlite_url, keys.create_key, TENANT)[1],
        "batch": batch.batch_id,
        "job": job.job_id,
    }


@contextmanager
def transactions(url: str) -> Iterator[list[list[str]]]:
    """The statements of each transaction begun on the engine meanwhile, schema checks left out."""
    begun: list[list[str]] = []

    def began(_connection) -> None:
        begun.append([])

    def executes(_connection, _cursor, statement, *_args) -> None:
        if begun:
            begun[-1].append(" ".join(statement.split()))

    engine = get_engine(url)
    event.listen(engine, "begin", began)
    event.listen(engine, "before_cursor_execute", executes)
    seen: list[list[str]] = []
    try:
        yield seen
    finally:
        event.remove(engine, "begin", began)
        event.remove(engine, "before_cursor_execute", executes)
    seen += [t for t in begun if not any("alembic_version" in s for s in t)]


GETS = [
    # (service, fields, whether the reaper runs first)
    (jobs.JobStatusService, {"job": "job"}, True),
    (batches.BatchStatusService, {"batch": "batch"}, True),
    (batches.Batches, {}, False),
    (results.DomainInfo, {"domain": "site.test"}, False),
    (results.Pages, {"domain": "site.test", "sitemap": "https://site.test/sitemap.xml"}, False),
    (changes.Changes, {"domain": "site.test", "since": "2024-01-01"}, False),
]


@pytest.mark.parametrize(
    ("service", "fields", "reaps"), GETS, ids=lambda v: getattr(v, "__name__", None)
)
def test_one_get_reads_in_one_transaction(stored, service, fields, reaps):
    values = {name: stored.get(value, value) for name, value in fields.items()}
    args = {name.encode(): [value.encode()] for name, value in values.items()}
    with node_settings(stored["url"]), transactions(stored["url"]) as seen:
        answer = service(root())._serve(args, "", b"", stored["key"])
    assert answer and "message" not in answer, answer
    key, *rest = seen
    assert "FROM api_keys" in key[0], key  # the key lookup, its own read transaction
    if reaps:
        reap, *rest = rest
        assert "heartbeat_at" in reap[0], reap  # the reaper's own (write) transaction
    assert len(rest) == 1, rest  # the answer: one transaction, and it only reads
    assert rest[0] and all(s.startswith("SELECT") for s in rest[0]), rest[0]


# --- POST: one write transaction ----------------------------------------------------------


@pytest.fixture(scope="module")
def node_db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('posts') / 'scrapersky.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def node(scrapyd, node_db, tmp_path_factory):
    """A real Scrapyd node on the same database, where the POST services schedule their runs."""
    [started] = scrapyd(tmp_path_factory.mktemp("node"), 1, scrapy_env(node_db))
    yield started
    stop_all([started])


@pytest.fixture
def batches_of(node_db) -> dict[str, str]:
    """A pending batch (to cancel) and a batch whose one job failed once (to retry)."""
    pending = in_transaction(node_db, job_rows.create_batch, TENANT, ["wait.test"], {})
    failed = in_transaction(node_db, job_rows.create_batch, TENANT, ["tried.test"], {})
    with session_scope(node_db) as session:
        session.execute(
            update(Job)
            .where(Job.batch_id == failed.id)
            .values(status="failed", attempts=1, error="HTTP 500")
        )
        session.execute(
            update(BatchJob)
            .where(BatchJob.id == failed.id)
            .values(status="failed", failed_domains=1, progress=1.0)
        )
    return {"pending": pending.batch_id, "failed": failed.batch_id}


POSTS = [
    # (service, fields, a statement the one write transaction must hold)
    (jobs.ScanService, {"domain": "post.test"}, "INSERT INTO jobs"),
    (batches.Batch, {"domains": "one.test,two.test"}, "INSERT INTO batch_jobs"),
    (batches.Retry, {"batch": "failed"}, "UPDATE jobs"),
    (batches.Cancel, {"id": "pending"}, "UPDATE batch_jobs"),
]


@pytest.mark.parametrize(
    ("service", "fields", "writes"), POSTS, ids=lambda v: getattr(v, "__name__", None)
)
def test_one_post_writes_in_one_transaction(node, node_db, batches_of, service, fields, writes):
    key = in_transaction(node_db, keys.create_key, TENANT)[1]
    values = {name: batches_of.get(value, value) for name, value in fields.items()}
    args = {name.encode(): [value.encode()] for name, value in values.items()}
    login = {"SCRAPYD_URLS": node.url, "SCRAPYD_PASSWORD_FILE": str(node.password_file)}
    with node_settings(node_db, **login), transactions(node_db) as seen:
        answer = service(root())._serve(args, "", b"", key)
    assert answer and "message" not in answer, answer
    key_read, *rest = seen
    assert "FROM api_keys" in key_read[0], key_read
    writing = [t for t in rest if not all(s.startswith("SELECT") for s in t)]
    assert len(writing) == 1, rest  # every write of the request in one transaction
    assert any(s.startswith(writes) for s in writing[0]), writing[0]
    assert writing[0] is rest[0], rest  # the write first; what follows only reads the answer
