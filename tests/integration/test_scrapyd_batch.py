"""`scrapy batch` end to end: real Scrapyd nodes on loopback ports, the project egg deployed to each,
fixture sites behind the loopback proxy, one shared database."""

from __future__ import annotations

import functools
import json
import re
import threading
from pathlib import Path

from tests.conftest import scrapy, scrapy_env
from tests.support.db import rows, scalar, wait_until_stale
from tests.support.fixture_web import FixtureWeb, demo_site
from tests.support.in_process import run_command
from tests.support.ports import free_port
from tests.support.scrapyd_nodes import ScrapydNode, client_env, stop_all
from tests.support.waiting import wait_for


def small_site(web: FixtureWeb, host: str, delay: float) -> None:
    site = web.site(host)
    urls = "".join(f"<url><loc>http://{host}/p{i}</loc></url>" for i in range(5))
    site.add("/robots.txt", f"Sitemap: http://{host}/sitemap.xml\n")
    site.add(
        "/sitemap.xml",
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        delay=delay,
    )
    site.add(
        "/",
        f"<html><head><title>{host}</title></head><body>Welcome to {host}</body></html>",
        delay=delay,
    )


def slow_demo_site(web: FixtureWeb, host: str, delay: float) -> None:
    """The demo site with a slow homepage, so a batch's work spreads over every run."""
    site = demo_site(web, host)
    site.add("/", site.route("/").reply.body, content_type="text/html; charset=utf-8", delay=delay)


def domain_file(path: Path, hosts: list[str]) -> Path:
    # Comments, blank lines and repeated names (in other spellings) are part of real lists.
    lines = ["# nightly list", "", *hosts, f"https://www.{hosts[0]}/", hosts[1].upper()]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_nodes(nodes: list[ScrapydNode]) -> dict[str, str]:
    """Every run a node has seen, by run id → node URL."""
    return {
        job["id"]: node.url for node in nodes for state in node.jobs().values() for job in state
    }


def assert_each_domain_scanned_once(url: str, hosts: list[str]) -> None:
    domains = rows(url, "select domain, status from domains order by domain")
    assert domains == [{"domain": host, "status": "complete"} for host in sorted(hosts)]
    scanned = rows(url, "select domain, status from jobs order by domain")
    assert scanned == [{"domain": host, "status": "complete"} for host in sorted(hosts)]
    assert scalar(url, "select count(*) from jobs where status in ('pending', 'running')") == 0


def test_batch_runs_on_two_nodes_until_complete(scrapyd, postgres_url, web, tmp_path):
    hosts = [f"shop{i}.test" for i in range(30)]
    for host in hosts:
        slow_demo_site(web, host, delay=0.5)
    env = scrapy_env(postgres_url, web, SCRAPERSKY_CONCURRENT_SCANS="2")
    nodes = scrapyd(tmp_path / "nodes", 2, env, warm_spares=2)  # as scrapyd.conf ships
    try:
        result = scrapy(
            "batch",
            str(domain_file(tmp_path / "domains.txt", hosts)),
            "--wait",
            "--json",
            "--max-pages",
            "1",
            env={**env, **client_env(nodes)},
            timeout=150,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        outcome = json.loads(result.stdout)
        batch = outcome["batch"]
        assert batch["status"] == "complete" and batch["progress"] == 1.0
        assert (batch["total_domains"], batch["completed_domains"], batch["failed_domains"]) == (
            30,
            30,
            0,
        )
        assert batch["options"] == {"max_pages": 1, "render": "auto"}
        assert_each_domain_scanned_once(postgres_url, hosts)
        assert scalar(postgres_url, "select max(attempts) from jobs") == 1
        # Two slots per node, runs spread over both nodes, and the jobs ran in runs of both.
        scheduled = {run["run_id"]: run["node"] for run in outcome["runs"]}
        assert sorted(scheduled.values()) == sorted([nodes[0].url, nodes[1].url] * 2)
        for node in nodes:
            node.wait_idle(30)
        seen = run_nodes(nodes)
        assert scheduled.items() <= seen.items()
        used = {r["run_id"] for r in rows(postgres_url, "select distinct run_id from jobs")}
        assert used <= scheduled.keys()
        assert {seen[run_id] for run_id in used} == {nodes[0].url, nodes[1].url}
        # max_pages travels with the batch: one listed page fetched per domain, beyond the homepage.
        assert scalar(postgres_url, "select count(*) from pages where fetched_at is not null") == 30
        # Each node's two runs started in its two warm spares, and imported the deployed egg.
        for node in nodes:
            started = re.findall(r"Run (\w+) starts in warm spare \d+", node.log())
            assert len(started) == 2 and set(started) <= seen.keys()
            for run_id in started:
                assert f"scrapersky from {node.directory / 'eggs' / 'scrapersky'}" in node.run_log(
                    run_id
                )
    finally:
        stop_all(nodes)


STALE = 12  # seconds: SCRAPERSKY_STALE_AFTER of the killed-node test


def test_node_killed_mid_batch_then_resume(scrapyd, postgres_url, web, tmp_path):
    hosts = [f"slow{i}.test" for i in range(24)]
    # The victim's runs are held at their first sitemaps until the victim is killed: it dies with
    # jobs in flight however fast or slow the machine. The survivor's runs wait until the victim
    # holds a job (so they cannot take the whole batch first), then do all the rest.
    victim_runs: set[str] = set()
    runs_known, victim_holds, victim_dead = threading.Event(), threading.Event(), threading.Event()
    held: list[str] = []

    def sitemap_held_for_the_victim(request, reply):
        assert runs_known.wait(timeout=60), "the batch's runs were never known"
        run_id = scalar(
            postgres_url,
            "select run_id from jobs where domain = :d and status = 'running'",
            d=request.host,
        )
        if run_id in victim_runs:
            held.append(request.host)
            victim_holds.set()
            victim_dead.wait(timeout=120)
        else:
            victim_holds.wait(timeout=60)
        return reply

    for host in hosts:
        small_site(web, host, delay=0.4)
        reply = web.site(host).route("/sitemap.xml").reply
        web.site(host).handler(
            "/sitemap.xml", functools.partial(sitemap_held_for_the_victim, reply=reply)
        )
    # A run reaps stale jobs when it opens: past STALE_AFTER, a survivor's run that opens late (a
    # slow process start on a loaded machine) would requeue and finish the victim's jobs before
    # the resume this test is about. Long enough for every run to have opened by then.
    env = scrapy_env(
        postgres_url, web, SCRAPERSKY_CONCURRENT_SCANS="2", SCRAPERSKY_STALE_AFTER=str(STALE)
    )
    nodes = scrapyd(tmp_path / "nodes", 2, env)
    survivor, victim = nodes
    batch_env = {**env, **client_env([survivor, victim])}
    try:
        started = scrapy(
            "batch", str(domain_file(tmp_path / "domains.txt", hosts)), "--json", env=batch_env
        )
        assert started.returncode == 0, started.stderr[-3000:]
        outcome = json.loads(started.stdout)
        batch_id = outcome["batch"]["batch_id"]
        victim_runs.update(run["run_id"] for run in outcome["runs"] if run["node"] == victim.url)
        runs_known.set()
        assert victim_runs
        marks = ",".join(f"'{run}'" for run in sorted(victim_runs))
        # Until the fixture web holds a sitemap request from one of the victim's runs.
        wait_for(lambda: held, timeout=60)
        victim.kill()
        victim_dead.set()
        lost = scalar(
            postgres_url,
            f"select count(*) from jobs where status = 'running' and run_id in ({marks})",
        )
        assert lost >= len(set(held)) > 0  # the held jobs at least: they cannot have ended
        survivor.wait_idle(90)
        # The survivor's runs took every pending job; the victim's jobs still look running until reaped.
        assert scalar(postgres_url, "select count(*) from jobs where status = 'pending'") == 0
        assert scalar(postgres_url, "select status from batch_jobs") == "running"
        # Past SCRAPERSKY_STALE_AFTER since the victim's last heartbeat.
        wait_until_stale(postgres_url, STALE)
        resumed = scrapy(
            "batch", "--resume", batch_id, "--wait", "--json", env=batch_env, timeout=120
        )
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        final = json.loads(resumed.stdout)
        assert final["reaped"]["requeued"] >= lost
        assert final["skipped_nodes"].keys() == {victim.url}
        assert final["runs"] and {run["node"] for run in final["runs"]} == {survivor.url}
        assert final["batch"]["status"] == "complete"
        assert (final["batch"]["completed_domains"], final["batch"]["failed_domains"]) == (24, 0)
        assert_each_domain_scanned_once(postgres_url, hosts)
        assert scalar(postgres_url, "select count(*) from jobs where attempts = 2") >= lost
    finally:
        runs_known.set()
        victim_dead.set()
        stop_all(nodes)


def test_no_node_answering_leaves_the_batch_pending_for_resume(scrapyd, sqlite_url, web, tmp_path):
    hosts = ["alpha.test", "beta.test"]
    for host in hosts:
        demo_site(web, host)
    listing = tmp_path / "domains.txt"
    listing.write_text("alpha.test\nbeta.test\nnot a domain\n")
    env = scrapy_env(sqlite_url, web)
    dead = f"http://127.0.0.1:{free_port()}"
    result = scrapy("batch", str(listing), "--scrapyd", dead, env=env)
    assert result.returncode == 6  # no Scrapyd node
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert (
        len(errors) == 1
        and "no Scrapyd node answered" in errors[0]
        and "connection refused" in errors[0]
    )
    assert "Traceback" not in result.stderr
    batch_id = result.stdout.split()[0]
    batch = rows(sqlite_url, "select * from batch_jobs")[0]
    assert batch["batch_id"] == batch_id and batch["status"] == "pending"
    assert (batch["total_domains"], batch["failed_domains"]) == (3, 1)
    assert scalar(sqlite_url, "select count(*) from jobs where status = 'pending'") == 2

    [node] = scrapyd(tmp_path / "nodes", 1, env)
    try:
        resumed = scrapy(
            "batch",
            "--resume",
            batch_id,
            "--scrapyd",
            node.url,
            "--wait",
            env={**env, **client_env([node])},
            timeout=120,
        )
    finally:
        stop_all([node])
    # One domain was invalid: the batch ends partial, and --wait says so with exit code 1.
    assert resumed.returncode == 1, resumed.stderr[-3000:]
    assert resumed.stdout.split()[0] == batch_id
    assert f"batch {batch_id} ended partial: 2 complete, 1 failed of 3" in resumed.stderr
    assert sorted(r["domain"] for r in rows(sqlite_url, "select domain from domains")) == hosts
    assert (
        scalar(sqlite_url, "select count(*) from jobs where status in ('pending', 'running')") == 0
    )


def bad_batch_arguments(tmp_path: Path) -> list[tuple[list[str], str, int]]:
    """(arguments, what the error says, exit code): 2 bad input, 3 no such batch."""
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n")
    return [
        (["batch", str(tmp_path / "missing.txt")], "missing.txt", 2),
        (["batch", str(empty)], "no domains given", 2),
        (["batch", str(empty), "--slots", "0"], "slots must be >= 1", 2),
        (["batch", str(empty), "--render", "sometimes"], "render must be one of", 2),
        (["batch", str(empty), "--scrapyd", "localhost:6800"], "http(s)://host:port", 2),
        (["batch", "--resume", "no-such-batch"], "no batch with id", 3),
    ]


def assert_one_line_error(result, args: list[str], expected: str, code: int) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == code, (args, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], (
        args,
        lines,
    )


def test_bad_arguments_are_one_line_errors(sqlite_url, tmp_path):
    # In this process (tests.support.in_process); the next test runs the real `scrapy batch`.
    env = scrapy_env(sqlite_url)
    for args, expected, code in bad_batch_arguments(tmp_path):
        assert_one_line_error(run_command(*args, env=env), args, expected, code)
    assert scalar(sqlite_url, "select count(*) from batch_jobs") == 0


def test_the_scrapy_executable_gives_bad_arguments_one_line(sqlite_url, tmp_path):
    args, expected, code = bad_batch_arguments(tmp_path)[2]
    assert_one_line_error(scrapy(*args, env=scrapy_env(sqlite_url)), args, expected, code)
    assert scalar(sqlite_url, "select count(*) from batch_jobs") == 0


def test_scrapyd_cancel_ends_the_job_cancelled(scrapyd, sqlite_url, web, tmp_path):
    small_site(web, "cancelme.test", delay=60)
    # Scrapy lets the request in flight run up to DOWNLOAD_TIMEOUT before it stops.
    env = scrapy_env(sqlite_url, web, SCRAPERSKY_SCHEMES="http", DOWNLOAD_TIMEOUT="3")
    nodes = scrapyd(tmp_path / "nodes", 1, env, warm_spares=1)  # the run starts in a spare
    node = nodes[0]
    try:
        answer = node.post(
            "schedule.json",
            {"project": "scrapersky", "spider": "sitemap", "domain": "cancelme.test"},
        ).json()
        run_id = answer["jobid"]
        wait_for(
            lambda: scalar(sqlite_url, "select count(*) from jobs where status = 'running'") == 1,
            timeout=60,
        )
        assert (
            node.post("cancel.json", {"project": "scrapersky", "job": run_id}).json()["status"]
            == "ok"
        )
        wait_for(lambda: scalar(sqlite_url, "select status from jobs") != "running", timeout=60)
        job = rows(sqlite_url, "select status, run_id, error from jobs")[0]
        assert (
            job["status"] == "cancelled" and job["run_id"] == run_id and "shutdown" in job["error"]
        )
        assert f"Run {run_id} starts in warm spare" in node.log()
    finally:
        stop_all(nodes)
