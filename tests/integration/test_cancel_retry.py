"""`scrapy cancel` and `scrapy retry` end to end: a real Scrapyd node, fixture sites, one database."""

from __future__ import annotations

import json

from scrapersky.db import jobs, keys
from scrapersky.db.engine import in_transaction
from tests.conftest import scrapy, scrapy_env
from tests.integration.test_scrapyd_batch import domain_file, small_site
from tests.support.db import rows, scalar
from tests.support.in_process import run_command
from tests.support.scrapyd_nodes import Bearer, client_env, stop_all
from tests.support.waiting import wait_for

TENANT = "550e8400-e29b-41d4-a716-446655440000"


def test_cancel_ends_pending_jobs_at_once_and_stops_running_runs(
    scrapyd, postgres_url, web, tmp_path
):
    hosts = [f"slow{i}.test" for i in range(12)]
    for host in hosts:
        small_site(web, host, delay=1.5)
    env = scrapy_env(postgres_url, web, SCRAPERSKY_CONCURRENT_SCANS="2", SCRAPERSKY_SCHEMES="http")
    nodes = scrapyd(tmp_path / "nodes", 1, env)
    batch_env = {**env, **client_env(nodes[:1])}
    try:
        started = scrapy(
            "batch",
            str(domain_file(tmp_path / "domains.txt", hosts)),
            "--json",
            "--slots",
            "1",
            env=batch_env,
        )
        assert started.returncode == 0, started.stderr[-3000:]
        batch_id = json.loads(started.stdout)["batch"]["batch_id"]
        wait_for(
            lambda: scalar(postgres_url, "select count(*) from jobs where status = 'running'"),
            timeout=60,
        )

        cancelled = scrapy("cancel", batch_id, "--json", env=batch_env)
        assert cancelled.returncode == 0, cancelled.stderr[-3000:]
        outcome = json.loads(cancelled.stdout)
        assert outcome["kind"] == "batch" and outcome["cancelled_pending"] >= 1
        assert len(outcome["runs_stopped"]) == 1 and outcome["runs_not_found"] == []
        nodes[0].wait_idle(60)

        counts = {
            r["status"]: r["n"]
            for r in rows(postgres_url, "select status, count(*) as n from jobs group by status")
        }
        # Nothing left pending or running, nothing failed: what had not completed was cancelled,
        # the pending jobs at once and the running ones by their run's graceful shutdown.
        assert counts.keys() <= {"complete", "cancelled"}, counts
        assert counts.get("complete", 0) + counts["cancelled"] == 12
        assert counts["cancelled"] >= outcome["cancelled_pending"]
        batch = rows(
            postgres_url,
            "select status, total_domains, completed_domains, failed_domains from batch_jobs",
        )[0]
        assert batch["status"] == "cancelled"
        assert (batch["total_domains"], batch["completed_domains"], batch["failed_domains"]) == (
            12,
            counts.get("complete", 0),
            0,
        )
        # Cancelling again changes nothing; an unknown id is a one-line error. Both in this
        # process (tests.support.in_process): the real `scrapy cancel` ran above.
        again = json.loads(run_command("cancel", batch_id, "--json", env=batch_env).stdout)
        assert again["cancelled_pending"] == 0 and again["runs_stopped"] == {}
        unknown = run_command("cancel", "no-such-batch", env=batch_env)
        assert (
            unknown.returncode == 3
            and unknown.stderr.strip() == "error: no batch or job with id 'no-such-batch'"
        )
    finally:
        stop_all(nodes)


def test_cancel_a_pending_job_and_refuse_another_tenants(database_url, web):
    created = in_transaction(
        database_url, jobs.add_jobs, TENANT, ["alone.test"], run_id="later", options={}
    )
    env = scrapy_env(database_url, web)
    # In this process (tests.support.in_process); a real `scrapy cancel` runs in
    # test_cancel_ends_pending_jobs_at_once_and_stops_running_runs.
    other = run_command(
        "cancel", created[0].job_id, "--tenant-id", "00000000-0000-4000-8000-000000000001", env=env
    )
    assert other.returncode == 3 and "no batch or job" in other.stderr
    mine = run_command("cancel", str(created[0].id), env=env)
    assert mine.returncode == 0, mine.stderr
    assert (
        mine.stdout.strip()
        == f"job {created[0].job_id}: 1 pending job(s) cancelled, 0 run(s) asked to stop"
    )
    assert rows(database_url, "select status, error from jobs") == [
        {"status": "cancelled", "error": "cancelled"}
    ]


def test_retry_requeues_failed_domains_as_a_new_attempt(scrapyd, postgres_url, web, tmp_path):
    hosts = ["fine.test", "flaky.test", "down.test"]
    small_site(web, "fine.test", delay=0)
    web.site("flaky.test").add("/robots.txt", "oops", status=500).add("/", "oops", status=503)
    web.site("down.test").add("/robots.txt", "oops", status=500).add("/", "oops", status=503)
    env = scrapy_env(postgres_url, web, SCRAPERSKY_SCHEMES="http")
    nodes = scrapyd(tmp_path / "nodes", 1, env)
    batch_env = {**env, **client_env(nodes[:1])}
    try:
        (tmp_path / "domains.txt").write_text("\n".join([*hosts, "not a domain"]) + "\n")
        first = scrapy(
            "batch", str(tmp_path / "domains.txt"), "--wait", "--json", env=batch_env, timeout=120
        )
        batch = json.loads(first.stdout)["batch"]
        assert (batch["status"], batch["completed_domains"], batch["failed_domains"]) == (
            "partial",
            1,
            3,
        )

        small_site(web, "flaky.test", delay=0)  # the site is back
        retried = scrapy("retry", batch["batch_id"], "--wait", "--json", env=batch_env, timeout=120)
        outcome = json.loads(retried.stdout)
        assert outcome["requeued"] == 2  # the invalid name is not retried
        final = outcome["batch"]
        assert (
            final["status"],
            final["total_domains"],
            final["completed_domains"],
            final["failed_domains"],
        ) == ("partial", 4, 2, 2)
        attempts = {
            r["domain"]: (r["status"], r["attempts"])
            for r in rows(postgres_url, "select domain, status, attempts from jobs")
        }
        assert attempts["flaky.test"] == ("complete", 2) and attempts["down.test"] == ("failed", 2)
        assert attempts["fine.test"] == ("complete", 1) and attempts["not a domain"][0] == "failed"
        assert (
            scalar(postgres_url, "select count(*) from jobs where status in ('pending', 'running')")
            == 0
        )
    finally:
        stop_all(nodes)


def test_cancel_and_retry_over_http_are_tenant_scoped(scrapyd, postgres_url, web, tmp_path):
    small_site(web, "good.test", delay=0)
    web.site("flaky.test").add("/robots.txt", "oops", status=500).add("/", "oops", status=503)
    [node] = scrapyd(
        tmp_path / "nodes", 1, scrapy_env(postgres_url, web, SCRAPERSKY_SCHEMES="http")
    )
    mine = Bearer(in_transaction(postgres_url, keys.create_key, TENANT, "mine")[1])
    theirs = Bearer(
        in_transaction(
            postgres_url, keys.create_key, "00000000-0000-4000-8000-0000000000dd", "theirs"
        )[1]
    )
    try:
        started = node.post(
            "batch.json", json={"domains": ["good.test", "flaky.test"]}, auth=mine
        ).json()
        batch_id = started["batch_id"]
        wait_for(
            lambda: (
                node.get("batchstatus.json", batch=batch_id, auth=mine).json()["state"] == "partial"
            ),
            timeout=90,
            every=0.5,
        )
        unknown_id = "0b0b0b0b-0000-4000-8000-000000000000"
        for endpoint, field in (("retry.json", "batch"), ("cancel.json", "id")):
            # Another tenant's batch answers exactly as an unknown one does.
            refused = node.post(endpoint, json={field: batch_id}, auth=theirs)
            unknown = node.post(endpoint, json={field: unknown_id}, auth=theirs)
            assert refused.status_code == unknown.status_code == 404
            assert refused.json()["message"].replace(batch_id, "ID") == unknown.json()[
                "message"
            ].replace(unknown_id, "ID")
        small_site(web, "flaky.test", delay=0)
        retried = node.post("retry.json", json={"batch": batch_id}, auth=mine).json()
        assert (
            retried["requeued"] == 1 and retried["state"] == "running" and len(retried["runs"]) == 1
        )
        wait_for(
            lambda: (
                node.get("batchstatus.json", batch=batch_id, auth=mine).json()["state"]
                == "complete"
            ),
            timeout=90,
            every=0.5,
        )
        answer = node.get("batchstatus.json", batch=batch_id, auth=mine).json()["batch"]
        assert (answer["completed_domains"], answer["failed_domains"]) == (2, 0)
        assert answer["counts"] == {"complete": 2, "runs": 0}

        pending = in_transaction(
            postgres_url, jobs.add_jobs, TENANT, ["later.test"], run_id="nobody", options={}
        )[0]
        assert node.post("cancel.json", json={"id": pending.job_id}, auth=theirs).status_code == 404
        cancelled = node.post("cancel.json", json={"id": pending.job_id}, auth=mine).json()
        assert (cancelled["kind"], cancelled["cancelled_pending"], cancelled["runs_stopped"]) == (
            "job",
            1,
            {},
        )
        listed = node.get("batches.json", auth=mine).json()["batches"]
        assert [b["batch_id"] for b in listed] == [batch_id]
        assert node.get("batches.json", auth=theirs).json()["batches"] == []
    finally:
        stop_all([node])
