"""/metrics on a real Scrapyd node: Prometheus text that parses, with exact aggregate numbers."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from scrapersky.db.aggregates import error_kind
from tests.conftest import scrapy, scrapy_env
from tests.integration.test_scrapyd_batch import small_site
from tests.support.db import rows
from tests.support.scrapyd_nodes import client_env, stop_all


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_jobs_batches_urls_and_errors_without_tenants(
    scrapyd, postgres_url, web, tmp_path
):
    for host in ("one.test", "two.test"):
        small_site(web, host, delay=0)
    web.site("down.test").add("/robots.txt", "oops", status=500).add("/", "oops", status=503)
    env = scrapy_env(postgres_url, web, SCRAPERSKY_SCHEMES="http")
    nodes = scrapyd(tmp_path / "nodes", 1, env)
    try:
        (tmp_path / "domains.txt").write_text("one.test\ntwo.test\ndown.test\nnot a domain\n")
        done = scrapy(
            "batch",
            str(tmp_path / "domains.txt"),
            "--wait",
            "--json",
            "--tenant-id",
            "00000000-0000-4000-8000-0000000000aa",
            env={**env, **client_env(nodes[:1])},
            timeout=120,
        )
        assert json.loads(done.stdout)["batch"]["status"] == "partial", done.stderr[-2000:]
        # A job's end is written before its crawl process exits, so the node may still count the
        # run for a moment after the batch ends: read the metrics once the node is idle.
        nodes[0].wait_idle(timeout=30)
        answer = nodes[0].get("metrics")
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
        samples = _samples(answer.text)
    finally:
        stop_all(nodes)
    assert samples[("scrapersky_jobs", (("state", "complete"),))] == 2
    assert samples[("scrapersky_jobs", (("state", "failed"),))] == 2
    assert samples[("scrapersky_jobs", (("state", "running"),))] == 0
    assert samples[("scrapersky_batches", (("state", "partial"),))] == 1
    assert samples[("scrapersky_domains", ())] == 3
    assert (
        samples[("scrapersky_urls_listed", ())] == 10
    )  # five listed URLs on each of the two good sites
    # Scan durations: the three jobs that were scanned (the invalid name never started).
    assert samples[("scrapersky_scan_duration_seconds_count", ())] == 3
    assert samples[("scrapersky_scan_duration_seconds_bucket", (("le", "+Inf"),))] == 3
    errors = {
        dict(labels)["kind"]: value
        for (name, labels), value in samples.items()
        if name == "scrapersky_job_errors"
    }
    # down.test answers its homepage with 503 and "not a domain" is no domain name: one failure
    # of each kind, labelled by the words before the error's first colon.
    failed = {
        r["domain"]: r["error"]
        for r in rows(postgres_url, "select domain, error from jobs where status = 'failed'")
    }
    assert failed.keys() == {"down.test", "not a domain"}
    assert failed["down.test"].startswith("homepage: HTTP 503")
    assert failed["not a domain"].startswith("invalid domain")
    assert errors == {"homepage": 1, "invalid_domain": 1}
    assert samples[("scrapersky_node_runs_running", ())] == 0
    for private in (
        "00000000-0000-4000-8000-0000000000aa",
        "one.test",
        "down.test",
        "not a domain",
    ):
        assert private not in answer.text


def test_error_kinds_are_short_labels():
    assert error_kind("unreachable: DNS lookup failed: x") == "unreachable"
    assert error_kind("homepage: HTTP 503") == "homepage"
    assert error_kind(None) == "unknown" and error_kind("") == "unknown"
    assert error_kind("invalid domain 'not a domain': spaces") == "invalid_domain"
    assert error_kind("stale: process died") == "stale"
    assert (
        error_kind("shop.example: something") == "other" and error_kind("Ölshop test: y") == "other"
    )
