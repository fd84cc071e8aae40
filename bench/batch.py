"""Batch runs against one job per domain, through real Scrapyd nodes.

Same fixture web, fresh nodes for each pass (configured as the tree's scrapyd.conf ships them,
their warm spares warm before the clock starts), one pass after the other:
  - `scrapy batch LIST --wait`: the batch's pending jobs, worked by `--slots` runs per node;
  - with --baseline REF, the same through nodes running REF's code, into a database migrated
    by REF; the two trees then run twice each, REF first and last (REF, ours, ours, REF), and
    each tree's figures are its two passes added up, since a second pass of the same code runs
    slower than the first here;
  - schedule.json with domain=… once per domain, round robin over the nodes (what a client
    without batches does): one Scrapy process per domain, in the same database as our first.
Each pass gets its own domains (identical demo sites), so none profits from another. A batch
pass also says where a domain's time goes: HTTP requests, database transactions (PostgreSQL's
count of commits) and Scrapy process starts, per domain.

    python -m bench.batch                 # 1,000 domains
    python -m bench.batch --domains 40    # a quick try
    python -m bench.batch --baseline main --skip-single
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import Figure, format_table
from bench.baseline import Baseline, BaselineError
from bench.site import ROOT

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
    requests: int = 0  # HTTP requests made, over every job of the pass
    transactions: int | None = None  # database transactions committed (PostgreSQL only)

    @property
    def rate(self) -> float:
        return self.domains / self.seconds if self.seconds else 0.0

    def per_domain(self) -> str:
        """Where a domain's time goes: requests, database round trips, process starts."""
        parts = [f"{self.requests / self.domains:.1f} requests"]
        if self.transactions is not None:
            parts.append(f"{self.transactions / self.domains:.1f} database transactions")
        parts.append(f"{self.processes / self.domains:.3f} process starts")
        return "per domain: " + ", ".join(parts)


@dataclass(frozen=True)
class Tree:
    """The code a pass runs: this tree, or a baseline commit's export (bench.baseline)."""

    root: Path = ROOT
    env_extra: dict[str, str] = field(default_factory=dict)
    label: str = "working tree"


@contextmanager
def database(url: str | None, tree: Tree = Tree()) -> Iterator[tuple[str, str]]:
    """(URL, kind): the given database, else a fresh PostgreSQL one, else a SQLite file; migrated
    by the tree's own migrations."""
    from tests.support.databases import create_postgres_database, drop_postgres_database

    if url:
        _upgrade(tree, url)
        yield url, "given"
        return
    try:
        fresh = create_postgres_database()
    except Exception as exc:  # no server here: SQLite still shows the difference
        print(f"PostgreSQL unavailable ({str(exc).splitlines()[0]}): using SQLite", file=sys.stderr)
    else:
        try:
            _upgrade(tree, fresh)
            yield fresh, "postgresql"
        finally:
            drop_postgres_database(fresh)
        return
    with tempfile.TemporaryDirectory(prefix="bench-batch-db-") as directory:
        sqlite = f"sqlite:///{Path(directory) / 'bench.db'}"
        _upgrade(tree, sqlite)
        yield sqlite, "sqlite"


def _upgrade(tree: Tree, url: str) -> None:
    code = f"from scrapersky.db.schema import upgrade; upgrade({url!r})"
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree.root,
        env={**os.environ, **tree.env_extra},
        check=True,
        capture_output=True,
    )


def _transactions(url: str) -> int | None:
    from tests.support.db import scalar

    if not url.startswith("postgresql"):
        return None
    return int(
        scalar(url, "select xact_commit from pg_stat_database where datname = current_database()")
    )


def batch_pass(
    hosts: list[str],
    web,
    url: str,
    work: Path,
    tree: Tree,
    *,
    nodes: int,
    slots: int,
    max_proc: int,
) -> Pass:
    """`scrapy batch LIST --wait` through `nodes` fresh Scrapyd nodes running `tree`'s code."""
    from tests.support.commands import scrapy_env
    from tests.support.db import scalar
    from tests.support.scrapyd_nodes import client_env, project_launcher, start_nodes, stop_all

    env = {**scrapy_env(url, web, LOG_LEVEL="WARNING"), **tree.env_extra}
    # Nodes configured as the tree's scrapyd.conf ships them, warm spares included (started and
    # warm before the clock starts, as on a node that has been up for a while).
    _, spares = project_launcher(tree.root)
    started = start_nodes(
        work / "nodes", nodes, env, source=tree.root, max_proc=max_proc, warm_spares=spares
    )
    try:
        listing = work / "domains.txt"
        listing.write_text("\n".join(hosts) + "\n")
        slot_args = ("--slots", str(slots))
        before = _transactions(url)
        begin = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "batch", str(listing), "--wait", "--json", *slot_args],
            env={**env, **client_env(started)},
            cwd=tree.root,
            capture_output=True,
            text=True,
        )
        for node in started:
            node.wait_idle(3600)
        seconds = time.monotonic() - begin
    finally:
        stop_all(started)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"scrapy batch ({tree.label}) failed:\n{result.stderr[-3000:]}")
    after = _transactions(url)
    outcome = json.loads(result.stdout)
    # A job's stats are its run's counters when the job ended: a run's last job holds its total.
    requests = scalar(
        url,
        "select coalesce(sum(n), 0) from (select max(cast(json_extract_path_text("
        "cast(stats as json), 'downloader/request_count') as integer)) n "
        "from jobs where batch_id is not null group by run_id) runs",
    )
    return Pass(
        f"batch runs ({tree.label})",
        len(hosts),
        seconds,
        outcome["batch"]["completed_domains"],
        len(outcome["runs"]),
        int(requests or 0),
        None if before is None or after is None else after - before,
    )


def single_pass(hosts: list[str], web, url: str, work: Path, *, nodes: int, max_proc: int) -> Pass:
    """schedule.json once per domain, round robin over the nodes: one Scrapy process per domain."""
    from tests.support.commands import scrapy_env
    from tests.support.db import scalar
    from tests.support.scrapyd_nodes import start_nodes, stop_all

    env = scrapy_env(url, web, LOG_LEVEL="WARNING")
    started = start_nodes(work / "single-nodes", nodes, env, max_proc=max_proc)
    try:
        begin = time.monotonic()
        for index, host in enumerate(hosts):
            node = started[index % len(started)]
            answer = node.post(
                "schedule.json", {"project": "scrapersky", "spider": "sitemap", "domain": host}
            )
            answer.raise_for_status()
        for node in started:
            node.wait_idle(24 * 3600)
        seconds = time.monotonic() - begin
    finally:
        stop_all(started)
    complete = scalar(
        url, "select count(*) from jobs where batch_id is null and status = 'complete'"
    )
    return Pass("one job per domain", len(hosts), seconds, complete, len(hosts))


def measure(
    domains: int,
    *,
    nodes: int = 2,
    slots: int = 2,
    max_proc: int = 4,
    database_url: str | None = None,
    baseline: Tree | None = None,
    single: bool = True,
) -> tuple[Pass, Pass | None, Pass | None, str]:
    """(batch pass, one-job-per-domain pass, the baseline's batch pass, database kind)."""
    from tests.support.fixture_web import FixtureWeb, demo_site

    options = {"nodes": nodes, "max_proc": max_proc}
    # With a baseline, the two trees alternate, baseline first and last (A B B A), and each
    # tree's figures are the sum of its two passes: measured here, whichever pass runs second
    # of two identical ones is 1.2-1.3x slower, so one pass each favours the first.
    order = ["base", "ours", "ours", "base"] if baseline is not None else ["ours"]
    with FixtureWeb() as web, tempfile.TemporaryDirectory(prefix="bench-batch-") as work:
        # Each pass gets its own domains (identical demo sites), so none profits from another.
        names = [f"{tree}{index}" for index, tree in enumerate(order)] + ["single"]
        hosts = {name: [f"{name}-{i}.test" for i in range(domains)] for name in names}
        for listed in hosts.values():
            for host in listed:
                demo_site(web, host)
        passes: dict[str, list[Pass]] = {"ours": [], "base": []}
        one_each = None
        kind = ""
        for index, tree_name in enumerate(order):
            name = f"{tree_name}{index}"
            tree = baseline if tree_name == "base" and baseline is not None else Tree()
            given = database_url if tree_name == "ours" else None
            with database(given, tree) as (url, db_kind):
                passes[tree_name].append(
                    batch_pass(
                        hosts[name], web, url, Path(work) / name, tree, slots=slots, **options
                    )
                )
                if tree_name == "ours" and single and one_each is None:
                    one_each = single_pass(hosts["single"], web, url, Path(work), **options)
                kind = db_kind if tree_name == "ours" else kind
        ours = _summed(passes["ours"])
        theirs = _summed(passes["base"]) if passes["base"] else None
    return ours, one_each, theirs, kind


def _summed(runs: list[Pass]) -> Pass:
    """One tree's passes as one: times, domains, requests and transactions added up."""
    transactions = [run.transactions for run in runs]
    return Pass(
        runs[0].name,
        sum(run.domains for run in runs),
        sum(run.seconds for run in runs),
        sum(run.complete for run in runs),
        sum(run.processes for run in runs),
        sum(run.requests for run in runs),
        None if None in transactions else sum(t for t in transactions if t is not None),
    )


def figures(
    batch: Pass, single: Pass | None, baseline: Pass | None, kind: str, full: bool = True
) -> list[Figure]:
    """Targets (issue 7): batch runs ≥ 5× faster than one job per domain, ≥ 20 domains/s; judged
    at full size only, and only when every domain of both passes completed. With a baseline, its
    batch pass beside ours (the goal is in bench.goals)."""
    complete = batch.complete == batch.domains and (
        single is None or single.complete == single.domains
    )
    judged = full or not complete
    rows = []
    if single is not None:
        ratio = single.seconds / batch.seconds if batch.seconds else 0.0
        rows.append(
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
            )
        )
    rows.append(
        Figure(
            "batch.rate",
            "batch runs: domains per second",
            batch.rate,
            "domains/s",
            f"≥ {RATE_TARGET:.0f} domains/s",
            (complete and batch.rate >= RATE_TARGET) if judged else None,
            found=batch.complete,
            speed_target=RATE_TARGET if complete else None,
            note=f"{batch.seconds:.2f} s; {batch.per_domain()}",
        )
    )
    if single is not None:
        rows.append(
            Figure(
                "batch.single",
                f"one job per domain, {single.domains:,} domains",
                single.seconds,
                "s",
                found=single.complete,
                note=f"{single.rate:.1f} domains/s, {single.processes} Scrapy processes, {kind} database",
            )
        )
    if baseline is not None:
        rows.append(
            Figure(
                "batch.baseline_rate",
                f"batch runs: domains per second, {baseline.name.removeprefix('batch runs (')[:-1]}",
                baseline.rate,
                "domains/s",
                found=baseline.complete,
                versus=f"working tree {batch.rate / baseline.rate:.2f} × this"
                if baseline.rate
                else "",
                note=f"{baseline.seconds:.2f} s; {baseline.per_domain()}",
            )
        )
    return rows


def run(quick: bool, baseline: Tree | None = None, single: bool = True) -> list[Figure]:
    """Entry point for `python -m bench`."""
    domains = FULL_DOMAINS
    if quick:
        # A quick run's trees get QUICK_DOMAINS each, over their two passes with a baseline.
        domains = QUICK_DOMAINS // 2 if baseline is not None else QUICK_DOMAINS
    ours, one_each, theirs, kind = measure(domains, baseline=baseline, single=single)
    return figures(ours, one_each, theirs, kind, full=not quick)


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
    parser.add_argument(
        "--baseline", metavar="REF", help="also run this commit's batch pass, in the same run"
    )
    parser.add_argument(
        "--skip-single", action="store_true", help="leave out the one-job-per-domain pass"
    )
    parser.add_argument(
        "--scale",
        type=int,
        metavar="DOMAINS",
        help="also one batch pass this large (10000: does the rate hold with size?)",
    )
    args = parser.parse_args(argv)
    if args.domains < 1 or args.nodes < 1 or args.slots < 1 or args.max_proc < 1:
        parser.error("--domains, --nodes, --slots and --max-proc must be at least 1")
    try:
        baseline = Baseline(args.baseline) if args.baseline else None
    except BaselineError as exc:
        print(f"error: --baseline {args.baseline}: {exc}", file=sys.stderr)
        return 2
    try:
        ours, single, theirs, kind = measure(
            args.domains,
            nodes=args.nodes,
            slots=args.slots,
            max_proc=args.max_proc,
            database_url=args.database_url,
            baseline=baseline_tree(baseline) if baseline else None,
            single=not args.skip_single,
        )
        large = None
        if args.scale:
            large, _, _, _ = measure(
                args.scale,
                nodes=args.nodes,
                slots=args.slots,
                max_proc=args.max_proc,
                single=False,
            )
    finally:
        if baseline is not None:
            baseline.close()
    for measured in (ours, single, theirs, large):
        if measured is not None:
            print(
                f"{measured.name}: {measured.domains:,} domains in {measured.seconds:.1f} s "
                f"({measured.rate:.1f} domains/s, {measured.complete:,} complete, "
                f"{measured.processes:,} Scrapy processes; {measured.per_domain()})"
            )
    print()
    rows = figures(ours, single, theirs, kind, full=args.domains >= FULL_DOMAINS)
    if large is not None:
        rows.append(scale_figure(ours, large))
    print(format_table(rows))
    return 0


def scale_figure(ours: Pass, large: Pass) -> Figure:
    """The rate of a large batch beside the first pass's: within 10% is the goal."""
    ratio = large.rate / ours.rate if ours.rate else 0.0
    return Figure(
        "batch.scale_rate",
        f"batch runs: domains per second, {large.domains:,} domains",
        large.rate,
        "domains/s",
        "within 10% of the smaller batch's rate",
        large.complete == large.domains and ratio >= 0.9,
        found=large.complete,
        versus=f"{ratio:.2f} × the rate at {ours.domains:,} domains",
        note=f"{large.seconds:.2f} s; {large.per_domain()}",
    )


def baseline_tree(baseline: Baseline) -> Tree:
    return Tree(baseline.root, dict(baseline.env_extra), f"baseline {baseline.label}")


if __name__ == "__main__":
    sys.exit(main())
