"""Fault scenarios run against real processes and a real PostgreSQL.

`python -m tests.faults` runs them all and prints, per fault: what was injected, how many
page rows were expected, how many were stored, and how many were lost (must be 0).
The integration tests call the same functions and assert on their results.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import scrapy, scrapy_env, start_scrapy
from tests.support.db import rows, scalar, wait_until_stale
from tests.support.fixture_web import FixtureWeb
from tests.support.in_flight import InFlight
from tests.support.tcp_gate import TcpGate


@dataclass
class Outcome:
    fault: str
    expected: int
    stored: int
    job_status: str
    detail: str = ""
    unwritten: int = 0  # rows the run could not write, counted in its stats and failing its job

    @property
    def lost(self) -> int:
        """Rows neither stored nor reported: must be 0."""
        return max(0, self.expected - self.stored - self.unwritten)

    @property
    def overreported(self) -> int:
        """Rows reported unwritten that were stored. A write whose connection was cut while its
        COMMIT was on the wire may have committed; the run cannot know, so it counts the write's
        rows as lost: at most one write's rows (a buffer and a chunk) per cut."""
        return max(0, self.stored + self.unwritten - self.expected)


def big_site(
    web: FixtureWeb, host: str, sitemaps: int, per_sitemap: int, delay: float = 0.0
) -> int:
    site = web.site(host)
    site.add("/robots.txt", "".join(f"Sitemap: http://{host}/s{n}.xml\n" for n in range(sitemaps)))
    for n in range(sitemaps):
        body = "".join(
            f"<url><loc>http://{host}/s{n}/p{i}</loc><lastmod>2024-01-01</lastmod></url>"
            for i in range(per_sitemap)
        )
        site.add(f"/s{n}.xml", f"<urlset>{body}</urlset>", delay=delay * (n + 1))
    site.add("/", f"<html><head><title>{host}</title></head><body>x</body></html>")
    return sitemaps * per_sitemap


def _pages(url: str, host: str) -> int:
    return (
        scalar(
            url,
            "select count(distinct p.url) from pages p join domains d on d.id = p.domain_id "
            "where d.domain = :d",
            d=host,
        )
        or 0
    )


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError("condition not reached")


def _through_gate(url: str, gate: TcpGate) -> str:
    head, _, rest = url.rpartition("@")
    _host_port, _, name = rest.partition("/")
    return f"{head}@127.0.0.1:{gate.port}/{name}"


def database_outage(
    postgres_url: str,
    web: FixtureWeb,
    log: Path,
    *,
    down_for: float,
    retries: int,
    store_buffer: int = 5000,
) -> Outcome:
    """Cut every database connection mid-crawl, keep it closed `down_for` seconds, reopen."""
    expected = big_site(web, "outage.test", sitemaps=8, per_sitemap=5000, delay=0.4)
    gate = TcpGate(("127.0.0.1", 5432))
    gate.open()
    url = _through_gate(postgres_url, gate)
    env = scrapy_env(
        url,
        web,
        SCRAPERSKY_SCHEMES="http",
        SCRAPERSKY_STORE_BUFFER=str(store_buffer),
        SCRAPERSKY_STORE_RETRIES=str(retries),
        SCRAPERSKY_STALE_AFTER="60",
    )
    proc = start_scrapy("crawl", "sitemap", "-a", "domain=outage.test", env=env, log=log)
    try:
        _wait(lambda: _pages(postgres_url, "outage.test") > 0, 60)
        gate.close()
        time.sleep(down_for)
        gate.open()
        code = proc.wait(180)
    finally:
        proc.kill()
        gate.close()
    job = rows(postgres_url, "select status, error, stats from jobs")[0]
    stats = job["stats"] or {}
    return Outcome(
        f"database down {down_for:.0f}s mid-crawl (store retries {retries})",
        expected,
        _pages(postgres_url, "outage.test"),
        job["status"],
        detail=f"exit {code}; retries {stats.get('scrapersky/store/retries', 0)}; error {job['error']}",
        unwritten=stats.get("scrapersky/store/lost_rows", 0),
    )


def killed_mid_scan(database_url: str, web: FixtureWeb, log: Path) -> Outcome:
    """SIGKILL the crawl mid-scan; the next look fails the job; a rescan completes the domain."""
    expected = big_site(web, "killed.test", sitemaps=4, per_sitemap=2000, delay=1.0)
    env = scrapy_env(
        database_url,
        web,
        SCRAPERSKY_SCHEMES="http",
        SCRAPERSKY_STALE_AFTER="2",
        SCRAPERSKY_STORE_BUFFER="1000",
    )
    proc = start_scrapy("crawl", "sitemap", "-a", "domain=killed.test", env=env, log=log)
    try:
        _wait(lambda: _pages(database_url, "killed.test") > 0, 60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    wait_until_stale(database_url, 2)
    scrapy("status", env=env)
    first = rows(database_url, "select status, error from jobs order by id")[0]
    again = scrapy("crawl", "sitemap", "-a", "domain=killed.test", env=env)
    statuses = [r["status"] for r in rows(database_url, "select status from jobs order by id")]
    return Outcome(
        "SIGKILL mid-scan, then rescan",
        expected,
        _pages(database_url, "killed.test"),
        "/".join(statuses),
        f"killed job: {first['status']} ({first['error']}); rescan exit {again.returncode}",
    )


def concurrent_scans(database_url: str, web: FixtureWeb, log_dir: Path) -> Outcome:
    """Two runs scan the same domain at the same time."""
    expected = big_site(web, "twice.test", sitemaps=4, per_sitemap=10000)
    # Each sitemap is held until both runs are downloading it: the scans really overlap.
    site = web.site("twice.test")
    gauges = []
    for n in range(4):
        gauges.append(InFlight(expected=2, total=2))
        site.handler(f"/s{n}.xml", gauges[-1].route(site.route(f"/s{n}.xml").reply))
    env = scrapy_env(database_url, web, SCRAPERSKY_SCHEMES="http", SCRAPERSKY_STORE_BUFFER="4000")
    procs = [
        start_scrapy(
            "crawl", "sitemap", "-a", "domain=twice.test", env=env, log=log_dir / f"twice{n}.log"
        )
        for n in (1, 2)
    ]
    codes = [p.wait(180) for p in procs]
    logs = "".join((log_dir / f"twice{n}.log").read_text() for n in (1, 2))
    problems = [word for word in ("deadlock", "UniqueViolation", "IntegrityError") if word in logs]
    rows_total = scalar(database_url, "select count(*) from pages")
    domains = scalar(database_url, "select count(*) from domains")
    statuses = "/".join(
        r["status"] for r in rows(database_url, "select status from jobs order by id")
    )
    return Outcome(
        "two scans of one domain at once",
        expected,
        rows_total,
        statuses,
        f"exits {codes}; domain rows {domains}; problems {problems or 'none'}; "
        f"sitemaps downloaded by both at once {sum(g.peak == 2 for g in gauges)}/4",
    )


def main() -> int:
    import tempfile

    from scrapersky.db.schema import upgrade
    from tests.conftest import create_postgres_database, drop_postgres_database

    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for _name, run in (
            (
                "outage",
                lambda url, web: database_outage(
                    url, web, tmp_path / "outage.log", down_for=4, retries=8
                ),
            ),
            (
                "outage-too-long",
                lambda url, web: database_outage(
                    url, web, tmp_path / "gone.log", down_for=6, retries=1
                ),
            ),
            ("killed", lambda url, web: killed_mid_scan(url, web, tmp_path / "killed.log")),
            ("concurrent", lambda url, web: concurrent_scans(url, web, tmp_path)),
        ):
            url = create_postgres_database()
            try:
                upgrade(url)
                with FixtureWeb() as web:
                    outcomes.append(run(url, web))
            finally:
                drop_postgres_database(url)
    print(
        f"{'fault injected':<48} {'expected':>9} {'stored':>9} {'reported':>9} {'lost':>5}  job / detail"
    )
    for o in outcomes:
        print(
            f"{o.fault:<48} {o.expected:>9} {o.stored:>9} {o.unwritten:>9} {o.lost:>5}  {o.job_status}: {o.detail}"
        )
    return 1 if any(o.lost for o in outcomes) else 0
    return 0
