"""Batch runs against one job per domain, through real Scrapyd nodes.

Same nodes, same database, same fixture web, one after the other:
  1. `scrapy batch LIST --wait`: the batch's pending jobs, worked by `--slots` runs per node;
  2. schedule.json with domain=… once per domain, round robin over the nodes (what a client
     without batches does): one Scrapy process per domain.
Each pass gets its own domains (identical demo sites), so neither profits from the other.

    python -m bench.batch                 # 1,000 domains
    python -m bench.batch --domains 40    # a quick try
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import Figure, format_table

FULL_DOMAINS = 1000
QUICK_DOMAINS = 100
SPEEDUP_TARGET = 5.0
RATE_TARGET = 20.0


@dataclass(frozen=True)
class Pass:
    name: str
    domains: int
    seconds: float
    complete: int
    processes: int  # Scrapy processes started

    @property
    def rate(self) -> float:
        return self.domains / self.seconds if self.seconds else 0.0


@contextmanager
def database(url: str | None) -> Iterator[tuple[str, str]]:
    """(URL, kind): the given database, else a fresh PostgreSQL one, else a SQLite file."""
    from scrapersky.db.schema import upgrade
    from tests.conftest import create_postgres_database, drop_postgres_database

    if url:
        upgrade(url)
        yield url, "given"
        return
    try:
        fresh = create_postgres_database()
    except Exception as exc:  # no server here: SQLite still shows the difference
        print(f"PostgreSQL unavailable ({str(exc).splitlines()[0]}): using SQLite", file=sys.stderr)
    else:
        try:
            upgrade(fresh)
            yield fresh, "postgresql"
        finally:
            drop_postgres_database(fresh)
        return
    with tempfile.TemporaryDirectory(prefix="bench-batch-db-") as directory:
        sqlite = f"sqlite:///{Path(directory) / 'bench.db'}"
        upgrade(sqlite)
        yield sqlite, "sqlite"


def measure(
    domains: int,
    *,
    nodes: int = 2,
    slots: int = 2,
    max_proc: int = 4,
    database_url: str | None = None,
) -> tuple[Pass, Pass, str]:
    from tests.conftest import scrapy_env
    from tests.support.db import scalar
    from tests.support.fixture_web import FixtureWeb, demo_site
    from tests.support.scrapyd_nodes import start_nodes, stop_all

    batch_hosts = [f"batch{i}.test" for i in range(domains)]
    single_hosts = [f"single{i}.test" for i in range(domains)]
    with (
        FixtureWeb() as web,
        database(database_url) as (url, kind),
        tempfile.TemporaryDirectory(prefix="bench-batch-") as work,
    ):
        for host in batch_hosts + single_hosts:
            demo_site(web, host)
        env = scrapy_env(url, web, LOG_LEVEL="WARNING")
        started = start_nodes(Path(work) / "nodes", nodes, env, max_proc=max_proc)
        try:
            listing = Path(work) / "domains.txt"
            listing.write_text("\n".join(batch_hosts) + "\n")
            begin = time.monotonic()
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "batch",
                    str(listing),
                    "--wait",
                    "--json",
                    "--slots",
                    str(slots),
                ],
                env={**env, "SCRAPYD_URLS": ",".join(node.url for node in started)},
                cwd=Path(__file__).resolve().parents[1],
                capture_output=True,
                text=True,
            )
            for node in started:
                node.wait_idle(3600)
            batch_seconds = time.monotonic() - begin
            if result.returncode not in (0, 1):
                raise RuntimeError(f"scrapy batch failed:\n{result.stderr[-3000:]}")
            outcome = json.loads(result.stdout)
            batch = Pass(
                "batch runs",
                domains,
                batch_seconds,
                outcome["batch"]["completed_domains"],
                len(outcome["runs"]),
            )

            begin = time.monotonic()
            for index, host in enumerate(single_hosts):
                node = started[index % len(started)]
                answer = node.post(
                    "schedule.json", {"project": "scrapersky", "spider": "sitemap", "domain": host}
                )
                answer.raise_for_status()
            for node in started:
                node.wait_idle(24 * 3600)
            single_seconds = time.monotonic() - begin
            complete = scalar(
                url, "select count(*) from jobs where batch_id is null and status = 'complete'"
            )
            single = Pass("one job per domain", domains, single_seconds, complete, domains)
        finally:
            stop_all(started)
    return batch, single, kind


def figures(batch: Pass, single: Pass, kind: str, full: bool = True) -> list[Figure]:
    """Targets (issue 7): batch runs ≥ 5× faster than one job per domain, ≥ 20 domains/s; judged
    at full size only, and only when every domain of both passes completed."""
    ratio = single.seconds / batch.seconds if batch.seconds else 0.0
    complete = batch.complete == batch.domains and single.complete == single.domains
    judged = full or not complete
    return [
        Figure(
            "batch.runs",
            f"batch runs, {batch.domains:,} domains",
            batch.seconds,
            "s",
            f"≥ {SPEEDUP_TARGET:.0f}× faster than one job per domain",
            (complete and ratio >= SPEEDUP_TARGET) if judged else None,
            found=batch.complete,
            versus=f"{ratio:.1f}× faster than one job per domain",
            note=f"{batch.processes} Scrapy processes, {kind} database",
        ),
        Figure(
            "batch.rate",
            "batch runs: domains per second",
            batch.rate,
            "domains/s",
            f"≥ {RATE_TARGET:.0f} domains/s",
            (complete and batch.rate >= RATE_TARGET) if judged else None,
            found=batch.complete,
            speed_target=RATE_TARGET if complete else None,
        ),
        Figure(
            "batch.single",
            f"one job per domain, {single.domains:,} domains",
            single.seconds,
            "s",
            found=single.complete,
            note=f"{single.rate:.1f} domains/s, {single.processes} Scrapy processes, {kind} database",
        ),
    ]


def run(quick: bool) -> list[Figure]:
    """Entry point for `python -m bench`."""
    return figures(*measure(QUICK_DOMAINS if quick else FULL_DOMAINS), full=not quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.batch", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--domains",
        type=int,
        default=FULL_DOMAINS,
        help=f"domains per pass (default {FULL_DOMAINS})",
    )
    parser.add_argument("--nodes", type=int, default=2, help="Scrapyd nodes (default 2)")
    parser.add_argument("--slots", type=int, default=2, help="batch runs per node (default 2)")
    parser.add_argument(
        "--max-proc", type=int, default=4, help="Scrapy processes at a time per node (default 4)"
    )
    parser.add_argument(
        "--database-url", default=None, help="database to use (default: a fresh one)"
    )
    args = parser.parse_args(argv)
    if args.domains < 1 or args.nodes < 1 or args.slots < 1 or args.max_proc < 1:
        parser.error("--domains, --nodes, --slots and --max-proc must be at least 1")
    batch, single, kind = measure(
        args.domains,
        nodes=args.nodes,
        slots=args.slots,
        max_proc=args.max_proc,
        database_url=args.database_url,
    )
    for measured in (batch, single):
        print(
            f"{measured.name}: {measured.domains:,} domains in {measured.seconds:.1f} s "
            f"({measured.rate:.1f} domains/s, {measured.complete:,} complete, "
            f"{measured.processes:,} Scrapy processes)"
        )
    ratio = single.seconds / batch.seconds if batch.seconds else 0.0
    print(
        f"ratio: batch runs {ratio:.1f}× faster than one job per domain ({args.nodes} nodes, {kind} database)"
    )
    print()
    print(format_table(figures(batch, single, kind, full=args.domains >= FULL_DOMAINS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
