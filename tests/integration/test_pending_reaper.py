"""A job handed to a run that never claimed it (the run died at start) is failed with its reason
once SCRAPERSKY_PENDING_AFTER has passed; so are the pending jobs of a batch nothing works on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from scrapersky.db import jobs
from scrapersky.db.engine import get_engine, in_transaction
from scrapersky.db.models import BatchJob, Job
from tests.conftest import scrapy, scrapy_env
from tests.support.db import rows
from tests.support.in_process import run_command

TENANT = "550e8400-e29b-41d4-a716-446655440000"


def test_unclaimed_jobs_of_a_run_are_failed_by_the_next_look(database_url):
    [orphan] = in_transaction(
        database_url, jobs.add_jobs, TENANT, ["orphan.test"], run_id="run-that-died", options={}
    )
    batch = in_transaction(database_url, jobs.create_batch, TENANT, ["queued.test"], {})
    env = scrapy_env(database_url)
    in_transaction(
        database_url, jobs.add_jobs, TENANT, ["fresh.test"], run_id="run-starting", options={}
    )
    # The orphan and the batch's job were made two hours ago; the fresh one just now.
    with get_engine(database_url).begin() as connection:
        connection.execute(
            update(Job)
            .where(Job.domain != "fresh.test")
            .values(created_at=datetime.now(UTC) - timedelta(hours=2))
        )
    # `scrapy status` in this process (tests.support.in_process) but for the look that fails the
    # orphan, which is a real process.
    early = run_command(
        "status", orphan.job_id, "--json", "-s", "SCRAPERSKY_PENDING_AFTER=10800", env=env
    )
    assert json.loads(early.stdout)["job"]["status"] == "pending"
    looked = scrapy(
        "status", orphan.job_id, "--json", "-s", "SCRAPERSKY_PENDING_AFTER=3600", env=env
    )
    job = json.loads(looked.stdout)["job"]
    assert job["status"] == "failed" and job["finished_at"]
    assert job["error"] == "never started: its run did not claim it within 3600 s"
    states = {
        r["domain"]: r["status"] for r in rows(database_url, "select domain, status from jobs")
    }
    assert states == {"orphan.test": "failed", "queued.test": "pending", "fresh.test": "pending"}
    assert in_transaction(database_url, jobs.find_batch, batch.id).status == "pending"


def test_a_bad_pending_window_is_a_one_line_error(database_url):
    # In this process; test_settings_checked.py runs a real `scrapy status` stopped by a bad setting.
    result = run_command(
        "status", "-s", "SCRAPERSKY_PENDING_AFTER=soon", env=scrapy_env(database_url)
    )
    assert result.returncode == 2
    assert result.stderr == "error: SCRAPERSKY_PENDING_AFTER must be an integer, got 'soon'\n"


def test_pending_jobs_of_a_batch_nothing_works_on_are_failed_and_can_be_retried(database_url):
    stalled = in_transaction(
        database_url, jobs.create_batch, TENANT, ["left.test", "behind.test"], {}
    )
    busy = in_transaction(database_url, jobs.create_batch, TENANT, ["waiting.test"], {})
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    with get_engine(database_url).begin() as connection:
        # The stalled batch: nothing touched it for two hours. The busy one's job was just looked at.
        connection.execute(
            update(Job)
            .where(Job.batch_id == stalled.id)
            .values(created_at=two_hours_ago, updated_at=two_hours_ago)
        )
        connection.execute(update(BatchJob).values(updated_at=two_hours_ago))
    env = scrapy_env(database_url)
    run_command("status", "-s", "SCRAPERSKY_PENDING_AFTER=3600", env=env)
    states = {
        r["domain"]: (r["status"], r["error"])
        for r in rows(database_url, "select domain, status, error from jobs")
    }
    reason = (
        f"never started: no run of batch {stalled.batch_id} took it within 3600 s; "
        f"`scrapy retry {stalled.batch_id}` requeues it"
    )
    assert states == {
        "left.test": ("failed", reason),
        "behind.test": ("failed", reason),
        "waiting.test": ("pending", None),
    }
    ended = in_transaction(database_url, jobs.find_batch, stalled.id)
    assert (ended.status, ended.failed_domains) == ("failed", 2)
    assert in_transaction(database_url, jobs.requeue_failed, stalled.id) == 2
    assert in_transaction(database_url, jobs.find_batch, stalled.id).status == "running"
    assert in_transaction(database_url, jobs.find_batch, busy.id).status == "pending"
