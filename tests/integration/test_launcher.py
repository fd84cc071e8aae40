"""Warm spares (scrapersky/api/spare.py, scrapersky/api/launcher.py): a spare runs its order as
`python -m` would, and a node's spares start runs, are replaced, and never outlive the node.
Batches and cancel through spares: test_scrapyd_batch.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from scrapersky.api import launcher, spare
from tests.conftest import scrapy_env
from tests.integration.test_scrapyd_batch import small_site
from tests.support.db import scalar
from tests.support.scrapyd_nodes import stop_all
from tests.support.waiting import wait_for

PROBE = """
import json, os, sys
json.dump(
    {
        "name": __name__,
        "argv": sys.argv,
        "path0": sys.path[0],
        "env": {key: os.environ.get(key) for key in ("GIVEN", "NODE_ONLY")},
        "imported": sorted(
            name for name in ("scrapersky", "twisted.internet.reactor", "probe") if name in sys.modules
        ),
        "warm": "scrapy.crawler" in sys.modules and "sqlalchemy.orm" in sys.modules,
    },
    open(os.environ["PROBE_OUT"], "w"),
)
sys.exit(7)
"""


# Puts the pipe at descriptor 3, then becomes spare.py: this process's own descriptor 3 may be
# the test runner's channel, so it is never touched here.
EXEC_SPARE = (
    "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); os.close(fd); "
    "os.execv(sys.executable, [sys.executable, sys.argv[2]])"
)


def _start_spare(cwd: Path) -> tuple[subprocess.Popen, int]:
    """spare.py as the launcher starts it: stdin a pipe, `warm` on descriptor 3."""
    assert spare.READY_FD == 3
    read, write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", EXEC_SPARE, str(write), str(launcher.SPARE)],
        cwd=cwd,
        stdin=subprocess.PIPE,
        env={**os.environ, "NODE_ONLY": "1"},
        pass_fds=(write,),
    )
    os.close(write)
    return process, read


def test_a_spare_runs_its_order_as_python_m_would(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    process, ready = _start_spare(tmp_path)
    with os.fdopen(ready, "rb") as signal_pipe:
        assert signal_pipe.read() == b"warm\n"  # then the spare closes it
    order = {
        "module": "probe",
        "args": ["crawl", "-a", "domain=x.test"],
        "env": {"PATH": os.environ["PATH"], "GIVEN": "yes", "PROBE_OUT": str(tmp_path / "out")},
    }
    process.communicate(json.dumps(order).encode() + b"\n", timeout=60)
    assert process.returncode == 7  # the module's own exit status
    seen = json.loads((tmp_path / "out").read_text())
    assert seen["name"] == "__main__"
    assert seen["argv"] == [str(tmp_path / "probe.py"), "crawl", "-a", "domain=x.test"]
    assert seen["path0"] == str(tmp_path)  # the working directory, not scrapersky/api
    assert seen["env"] == {"GIVEN": "yes", "NODE_ONLY": None}  # the order's environment only
    # Warm, but neither the project (the run imports it from its egg) nor the reactor.
    assert seen["imported"] == [] and seen["warm"] is True


def test_a_spare_whose_stdin_ends_exits_quietly(tmp_path):
    process, ready = _start_spare(tmp_path)
    os.close(ready)
    process.communicate(b"", timeout=60)
    assert process.returncode == 0


def test_spares_warm_scrapy_components_and_never_the_project():
    assert not any(name.startswith("scrapersky") for name in spare.LIBRARIES)
    components = spare.scrapy_components()
    assert {
        "scrapy.downloadermiddlewares.httpproxy",  # a middleware
        "scrapy.core.downloader.handlers.http11",  # a download handler
        "scrapy.extensions.logstats",  # an extension
    } <= set(components)
    assert all(name.split(".")[0] == "scrapy" for name in components)
    assert launcher.READY_FD == spare.READY_FD


def _spares(node) -> list[psutil.Process]:
    """The node's spares: spare.py of the copy the node runs, not of this checkout."""
    return [
        child
        for child in psutil.Process(node.process.pid).children()
        if child.cmdline()[-1].endswith("/scrapersky/api/spare.py")
    ]


def test_a_lost_spare_is_logged_and_the_next_run_starts_cold_then_refills(
    scrapyd, sqlite_url, web, tmp_path
):
    small_site(web, "cold.test", delay=0)
    env = scrapy_env(sqlite_url, web, SCRAPERSKY_SCHEMES="http")
    [node] = scrapyd(tmp_path / "nodes", 1, env, warm_spares=1)
    try:
        [lost] = _spares(node)
        lost.send_signal(signal.SIGKILL)
        wait_for(lambda: f"warm spare {lost.pid} exited before its run" in node.log(), timeout=30)
        run_id = node.post(
            "schedule.json", {"project": "scrapersky", "spider": "sitemap", "domain": "cold.test"}
        ).json()["jobid"]
        node.wait_idle(60)
        assert scalar(sqlite_url, "select status from jobs") == "complete"
        assert f"Run {run_id} starts in warm spare" not in node.log()
        # Its end brought a new spare.
        wait_for(lambda: node.log().count("1 warm spares ready") == 2, timeout=60)
        [fresh] = _spares(node)
        assert fresh.pid != lost.pid
    finally:
        stop_all([node])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_node_never_leaves_its_spares_behind(scrapyd, sqlite_url, tmp_path, signum):
    [node] = scrapyd(tmp_path / "nodes", 1, scrapy_env(sqlite_url), warm_spares=2)
    spares = _spares(node)
    assert len(spares) == 2
    try:
        # The node's process alone, not its process group: stopped, it closes their stdin;
        # killed, their stdin loses its writer. Either way they end.
        os.kill(node.process.pid, signum)
        node.process.wait(timeout=30)
        _, alive = psutil.wait_procs(spares, timeout=30)
        assert not alive
    finally:
        stop_all([node])


def test_a_run_that_cannot_start_is_listed_finished_and_frees_its_slot(
    scrapyd, sqlite_url, web, tmp_path
):
    small_site(web, "next.test", delay=0)
    env = scrapy_env(sqlite_url, web, SCRAPERSKY_SCHEMES="http")
    [node] = scrapyd(tmp_path / "nodes", 1, env, max_proc=1)  # one slot, no spare: cold starts
    try:
        # No process takes an argument with a NUL in it.
        lost = node.post(
            "schedule.json", {"project": "scrapersky", "spider": "sitemap", "domain": "a\x00b.test"}
        ).json()["jobid"]
        wait_for(lambda: f"Run {lost} did not start: " in node.log(), timeout=30)
        after = node.post(
            "schedule.json", {"project": "scrapersky", "spider": "sitemap", "domain": "next.test"}
        ).json()["jobid"]
        node.wait_idle(60)
        assert {run["id"] for run in node.jobs()["finished"]} == {lost, after}
        assert (
            scalar(sqlite_url, "select status from jobs where domain = 'next.test'") == "complete"
        )
    finally:
        stop_all([node])
