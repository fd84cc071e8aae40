"""Inventory: `scrapy crawl sitemap -a domain=… -a max_pages=0` on the bench site into PostgreSQL.

A first scan into a fresh database, then a rescan of the unchanged site (conditional
requests: every sitemap answers 304), then a rescan of the churned site (bench.site: 2% of
the URLs of every sitemap removed, 2% added, 2% with a new lastmod), then the first scan
again without StorePipeline (ours without a database, to set beside the anchors). With a
baseline (bench.baseline), its first scans and ours alternate first (plain `scrapy crawl`, fresh
databases) for a few rounds, compared by their medians. Each run is a real
`scrapy` process: wall time, peak RSS of its process tree (psutil polling), and the longest
reactor stall (bench.probe). `profile` runs one more first scan under py-spy.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench import MB, Figure, Measured, fresh_postgres, run_dir, run_measured, scan_command
from bench.baseline import Baseline, plain_crawl
from bench.site import CHURN_EVERY, ROOT, BenchSite, build_churned_site, serve
from scrapersky import settings as project_settings
from tests.support.commands import scrapy_env
from tests.support.db import rows, scalar

FULL_SIZE = 1_000_000
FIRST_SCAN_TARGET, FIRST_SCAN_STRETCH = 15.0, 11.0
PEAK_RSS_TARGET_MB = 250
BASELINE_TARGET = 1.10  # the first scan at most 10% slower than the baseline's
RESCAN_SHARE, CHURN_SHARE = 0.25, 0.5  # rescans' time over the first scan's, at most
STALL_TARGET_MS = 100
_LIBRARY_PREFIX = re.compile(r"^.*/(site-packages|lib/python3\.\d+)/")


@dataclass
class CrawlRun:
    measured: Measured
    max_stall_ms: float
    probe: dict


def crawl_command(host: str, probe_file: Path, *extra: str) -> list[str]:
    spider_extensions = project_settings.sitemap_spider_settings["EXTENSIONS"]
    extensions = {**spider_extensions, "bench.probe.ReactorProbe": 0}
    return [
        *scan_command(host, EXTENSIONS=json.dumps(extensions), BENCH_PROBE_FILE=str(probe_file)),
        *extra,
    ]


def crawl_env(database_url: str, proxy: str) -> dict[str, str]:
    env = scrapy_env(
        database_url,
        None,
        http_proxy=proxy,
        https_proxy=proxy,
        SCRAPERSKY_SCHEMES="http",
        AUTOTHROTTLE_ENABLED="false",
        SCRAPERSKY_ALLOW_PRIVATE_NETWORKS="true",
    )
    # Crawls run with their bytecode, as an installed or deployed copy does (see bench.startup):
    # compiling the sources again at every start is no cost a deployment pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_crawl(
    database_url: str,
    proxy: str,
    host: str,
    label: str,
    prefix: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
) -> CrawlRun:
    probe_file = run_dir() / f"probe-{label}.json"
    log = run_dir() / f"crawl-{label}.log"
    measured = run_measured(
        [*prefix, *crawl_command(host, probe_file, *extra)],
        env=crawl_env(database_url, proxy),
        cwd=ROOT,
        log=log,
    )
    if measured.returncode != 0:
        raise RuntimeError(f"crawl {label} exited {measured.returncode}; see {log}")
    probe = json.loads(probe_file.read_text()) if probe_file.is_file() else {}
    return CrawlRun(measured, float(probe.get("max_stall_ms", -1)), probe)


def parse_only(database_url: str, proxy: str, host: str) -> CrawlRun:
    """The same crawl with page rows normalized but never stored: ours without the database."""
    pipelines = {
        name: order
        for name, order in project_settings.sitemap_spider_settings["ITEM_PIPELINES"].items()
        if "StorePipeline" not in name
    }
    return run_crawl(
        database_url,
        proxy,
        host,
        "parse-only",
        extra=("-s", f"ITEM_PIPELINES={json.dumps(pipelines)}"),
    )


def run(site: BenchSite, proxy: str, baseline: Baseline | None = None) -> list[Figure]:
    full = site.urls >= FULL_SIZE
    churn_site = build_churned_site(site)
    pairs: list[tuple[Measured, Measured]] = []
    for round_ in range(baseline.rounds if baseline is not None else 0):
        with baseline.database() as database_url:
            theirs = baseline.first_scan(database_url, proxy, site.host, f"baseline-{round_}")
        with fresh_postgres() as database_url:
            pairs.append(
                (theirs, plain_crawl(database_url, proxy, site.host, f"working-tree-{round_}"))
            )
    with fresh_postgres() as database_url:
        first = run_crawl(database_url, proxy, site.host, "first")
        stored = scalar(
            database_url,
            "select count(*) from pages where lastmod is not null "
            "and changefreq is not null and priority is not null",
        )
        rescan = run_crawl(database_url, proxy, site.host, "rescan")
        jobs = rows(database_url, "select stats from jobs order by id")
        stored_after = scalar(database_url, "select count(*) from pages")
        with serve(churn_site.root) as churn_proxy:
            churn = run_crawl(database_url, churn_proxy, site.host, "churn")
        churn_figures = _churn_figures(database_url, site, first, churn, full)
    with fresh_postgres() as database_url:
        unstored = parse_only(database_url, proxy, site.host)
        listed = (scalar(database_url, "select result_data from jobs") or {}).get("urls_listed")
    first_s, rescan_s = first.measured.seconds, rescan.measured.seconds
    rescan_stats = jobs[-1]["stats"] or {}
    not_modified = rescan_stats.get("downloader/response_status_count/304", 0)
    changed = rescan_stats.get("scrapersky/store/page_rows_changed", 0)
    peak_mb = max(first.measured.peak_rss, rescan.measured.peak_rss, churn.measured.peak_rss) / MB
    runs = (first, rescan, churn, unstored)
    stall = max(run.max_stall_ms for run in runs)
    stalls = sum(run.probe.get("stalls_over_100ms", 0) for run in runs)
    return [
        Figure(
            "inventory.first",
            "inventory: first scan → PostgreSQL",
            first_s,
            "s",
            f"≤ {FIRST_SCAN_TARGET:.0f} s (stretch {FIRST_SCAN_STRETCH:.0f} s)",
            (first_s <= FIRST_SCAN_TARGET) if full else None,
            found=stored,
            speed_target=FIRST_SCAN_TARGET,
            note=f"{site.urls:,} URLs listed; {stored:,} stored with lastmod, changefreq and priority",
        ),
        Figure(
            "inventory.parse",
            "inventory: same crawl, pages not stored",
            unstored.measured.seconds,
            "s",
            found=listed,
            note="StorePipeline left out: fetch, parse and normalize only, for the no-database "
            f"anchors; peak RSS {unstored.measured.peak_rss / MB:.0f} MB",
        ),
        Figure(
            "inventory.rescan",
            "inventory: rescan, site unchanged",
            rescan_s,
            "s",
            f"< {RESCAN_SHARE:g} × first scan, 0 rows",
            changed == 0 and (rescan_s < RESCAN_SHARE * first_s or not full),
            found=stored_after,
            versus=f"{rescan_s / first_s:.2f} × first scan",
            note=f"{not_modified} sitemaps answered 304; {changed} page rows changed",
        ),
        *churn_figures,
        Figure(
            "inventory.rss",
            "inventory: peak RSS of the crawl",
            peak_mb,
            "MB",
            f"≤ {PEAK_RSS_TARGET_MB} MB",
            peak_mb <= PEAK_RSS_TARGET_MB,
            note=f"first scan {first.measured.peak_rss / MB:.0f} MB, rescan {rescan.measured.peak_rss / MB:.0f} MB, "
            f"churn rescan {churn.measured.peak_rss / MB:.0f} MB",
        ),
        Figure(
            "inventory.stall",
            "inventory: longest reactor stall",
            stall,
            "ms",
            f"≤ {STALL_TARGET_MS} ms",
            0 <= stall <= STALL_TARGET_MS,
            note=f"{stalls} stalls over 100 ms in the four crawls",
        ),
        *_baseline_figures(baseline, pairs, full),
    ]


def _churn_figures(
    database_url: str, site: BenchSite, first: CrawlRun, churn: CrawlRun, full: bool
) -> list[Figure]:
    """The churned rescan: its time against the first scan's (judged at full size), the rows it
    wrote, and whether the history holds exactly the churn (every change once, nothing else)."""
    churn_s = churn.measured.seconds
    stats = rows(database_url, "select stats from jobs order by id desc limit 1")[0]["stats"] or {}
    written = stats.get("scrapersky/store/page_rows_changed", 0)
    recorded = {
        row["kind"]: row["n"]
        for row in rows(
            database_url,
            "select kind, count(*) n from scan_changes where job_id = (select max(id) from jobs) group by kind",
        )
    }
    removed = scalar(database_url, "select count(*) from pages where removed_at is not null")
    each = site.urls // CHURN_EVERY
    expected = {
        "page_added": each,
        "page_changed": each,
        "page_removed": each,
        "sitemap_changed": len(site.sitemap_paths),
    }
    exact = recorded == expected and removed == each and written == 2 * each
    return [
        Figure(
            "inventory.churn",
            "inventory: rescan, 2% removed/added/new lastmod",
            churn_s,
            "s",
            f"≤ {CHURN_SHARE:g} × first scan, exact",
            exact and (churn_s <= CHURN_SHARE * first.measured.seconds or not full),
            found=written + removed,
            versus=f"{churn_s / first.measured.seconds:.2f} × first scan",
            note=f"page rows written: {written:,} inserted or changed + {removed:,} marked removed; history "
            f"{', '.join(f'{k} {v:,}' for k, v in sorted(recorded.items()))}: {'exact' if exact else 'NOT exact'}",
        )
    ]


def _baseline_figures(
    baseline: Baseline | None, pairs: list[tuple[Measured, Measured]], full: bool
) -> list[Figure]:
    if baseline is None or not pairs:
        return []
    theirs = statistics.median(b.seconds for b, _ in pairs)
    ours = statistics.median(o.seconds for _, o in pairs)
    ratio = ours / theirs

    def times(runs) -> str:
        return ", ".join(f"{run.seconds:.2f}" for run in runs)

    return [
        Figure(
            "inventory.baseline",
            f"inventory: first scan, baseline {baseline.label}",
            theirs,
            "s",
            f"working tree ≤ {BASELINE_TARGET:.2f} × this",
            (ratio <= BASELINE_TARGET) if full else None,
            versus=f"working tree {ratio:.2f} × baseline",
            note=f"medians of {len(pairs)} alternating plain first scans each: baseline {times(b for b, _ in pairs)} s, "
            f"working tree {times(o for _, o in pairs)} s (median {ours:.2f} s); peak RSS baseline "
            f"{max(b.peak_rss for b, _ in pairs) / MB:.0f} MB, working tree {max(o.peak_rss for _, o in pairs) / MB:.0f} MB",
        )
    ]


# --- profiling ------------------------------------------------------------------------------


def py_spy() -> str | None:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


def profile(site: BenchSite, proxy: str, top: int = 25) -> str:
    """Run a first scan under py-spy (all threads, 250 samples/s) and summarize where time goes."""
    tool = py_spy()
    if tool is None:
        return (
            "profile: py-spy not found (pip install py-spy into the venv; it is not a requirement)"
        )
    raw = run_dir() / "profile-first.txt"
    with fresh_postgres() as database_url:
        run_crawl(
            database_url,
            proxy,
            site.host,
            "profile",
            prefix=(
                tool,
                "record",
                "--rate",
                "250",
                "--format",
                "raw",
                "--threads",
                "-o",
                str(raw),
                "--",
            ),
        )
    return summarize_profile(raw.read_text(), top)


# Where a sample's time goes: the innermost frame whose file matches decides (first rule wins).
AREAS = (
    ("startup: imports", ("<frozen importlib", "importlib/")),
    (
        "waiting (threads blocked)",
        ("threading.py", "selectors.py", "asyncio/unix_events.py", "queue.py"),
    ),
    ("sitemap parsing (scrapersky.sitemaps)", ("scrapersky/sitemaps/",)),
    ("store: SQL writes (scrapersky.db)", ("scrapersky/db/",)),
    ("store pipeline (scrapersky.pipelines)", ("scrapersky/pipelines.py",)),
    ("normalize (scrapersky.db.normalize)", ("scrapersky/normalize.py",)),
    ("spider (scrapersky.spiders)", ("scrapersky/spiders/",)),
    ("homepage metadata (scrapersky.metadata)", ("scrapersky/metadata/",)),
    ("job records (scrapersky.extensions)", ("scrapersky/extensions/",)),
    ("SQLAlchemy / psycopg2", ("sqlalchemy/", "psycopg2/")),
    ("playwright", ("playwright/",)),
    ("Scrapy", ("scrapy/",)),
    ("Twisted", ("twisted/",)),
    ("asyncio", ("asyncio/",)),
)


def summarize_profile(collapsed: str, top: int = 20) -> str:
    """Sample shares per area, per function (self and inclusive) and per thread, from py-spy's raw output."""
    areas: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if frames[0].startswith("thread "):  # --threads puts the thread first
            threads[frames[0].split(": ", 1)[-1] if ": " in frames[0] else "unnamed"] += count
            frames = frames[1:]
        if not frames:
            continue
        total += count
        areas[_area(frames)] += count
        own[_frame_name(frames[-1])] += count
        for name in {_frame_name(frame) for frame in frames}:
            inclusive[name] += count
    if not total:
        return "profile: no samples"

    def share(counter: Counter[str], limit: int | None = None) -> list[str]:
        return [f"  {100 * n / total:5.1f}%  {name}" for name, n in counter.most_common(limit)]

    return "\n".join(
        [
            f"profile of a first scan: {total} samples at 250/s over all threads",
            "by area (innermost matching frame):",
            *share(areas),
            "by thread:",
            *share(threads),
            f"self time, top {top}:",
            *share(own, top),
            f"inclusive time, top {top}:",
            *share(inclusive, top),
        ]
    )


def _area(frames: list[str]) -> str:
    for frame in reversed(frames):
        for area, markers in AREAS:
            if any(marker in frame for marker in markers):
                return area
    return "other"


def _frame_name(frame: str) -> str:
    # "function (path/to/module.py:123)" → "function (module path)", line numbers dropped
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    path = _LIBRARY_PREFIX.sub("", path.removeprefix(f"{ROOT}/"))
    return f"{name} ({path})"
