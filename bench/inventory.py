"""Inventory: `scrapy crawl sitemap -a domain=… -a max_pages=0` on the bench site into PostgreSQL.

A first scan into a fresh database, then a rescan of the unchanged site (conditional
requests: every sitemap answers 304), then the first scan again without StorePipeline
(ours without a database, to set beside the anchors). Each run is a real `scrapy`
process: wall time, peak RSS of its process tree (psutil polling), and the longest
reactor stall (bench.probe). `profile` runs one more first scan under py-spy.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench import MB, Figure, Measured, fresh_postgres, run_dir, run_measured
from bench.site import ROOT, BenchSite
from scrapersky import settings as project_settings
from tests.conftest import scrapy_env
from tests.support.db import rows, scalar

FULL_SIZE = 1_000_000
FIRST_SCAN_TARGET, FIRST_SCAN_STRETCH = 15.0, 11.0
PEAK_RSS_TARGET_MB = 250
STALL_TARGET_MS = 100
_LIBRARY_PREFIX = re.compile(r"^.*/(site-packages|lib/python3\.\d+)/")


@dataclass
class CrawlRun:
    measured: Measured
    max_stall_ms: float
    probe: dict


def crawl_command(host: str, probe_file: Path, *extra: str) -> list[str]:
    extensions = {**project_settings.EXTENSIONS, "bench.probe.ReactorProbe": 0}
    return [
        sys.executable, "-m", "scrapy", "crawl", "sitemap", "-a", f"domain={host}", "-a", "max_pages=0",
        "-s", f"EXTENSIONS={json.dumps(extensions)}", "-s", f"BENCH_PROBE_FILE={probe_file}", *extra,
    ]


def crawl_env(database_url: str, proxy: str) -> dict[str, str]:
    return scrapy_env(database_url, None, http_proxy=proxy, https_proxy=proxy, SCRAPERSKY_SCHEMES="http",
                      AUTOTHROTTLE_ENABLED="false", SCRAPERSKY_ALLOW_PRIVATE_NETWORKS="true")


def run_crawl(database_url: str, proxy: str, host: str, label: str, prefix: tuple[str, ...] = (),
              extra: tuple[str, ...] = ()) -> CrawlRun:
    probe_file = run_dir() / f"probe-{label}.json"
    log = run_dir() / f"crawl-{label}.log"
    measured = run_measured([*prefix, *crawl_command(host, probe_file, *extra)], env=crawl_env(database_url, proxy),
                            cwd=ROOT, log=log)
    if measured.returncode != 0:
        raise RuntimeError(f"crawl {label} exited {measured.returncode}; see {log}")
    probe = json.loads(probe_file.read_text()) if probe_file.is_file() else {}
    return CrawlRun(measured, float(probe.get("max_stall_ms", -1)), probe)


def parse_only(database_url: str, proxy: str, host: str) -> CrawlRun:
    """The same crawl with page rows normalized but never stored: ours without the database."""
    pipelines = {name: order for name, order in project_settings.ITEM_PIPELINES.items() if "StorePipeline" not in name}
    return run_crawl(database_url, proxy, host, "parse-only", extra=("-s", f"ITEM_PIPELINES={json.dumps(pipelines)}"))


def run(site: BenchSite, proxy: str) -> list[Figure]:
    full = site.urls >= FULL_SIZE
    with fresh_postgres() as database_url:
        first = run_crawl(database_url, proxy, site.host, "first")
        stored = scalar(database_url, "select count(*) from pages where lastmod is not null "
                                      "and changefreq is not null and priority is not null")
        rescan = run_crawl(database_url, proxy, site.host, "rescan")
        jobs = rows(database_url, "select stats from jobs order by id")
        stored_after = scalar(database_url, "select count(*) from pages")
    with fresh_postgres() as database_url:
        unstored = parse_only(database_url, proxy, site.host)
        listed = (scalar(database_url, "select result_data from jobs") or {}).get("urls_listed")
    first_s, rescan_s = first.measured.seconds, rescan.measured.seconds
    rescan_stats = jobs[-1]["stats"] or {}
    not_modified = rescan_stats.get("downloader/response_status_count/304", 0)
    changed = rescan_stats.get("scrapersky/store/page_rows_changed", 0)
    peak_mb = max(first.measured.peak_rss, rescan.measured.peak_rss) / MB
    runs = (first, rescan, unstored)
    stall = max(run.max_stall_ms for run in runs)
    stalls = sum(run.probe.get("stalls_over_100ms", 0) for run in runs)
    return [
        Figure("inventory.first", "inventory: first scan → PostgreSQL", first_s, "s",
               f"≤ {FIRST_SCAN_TARGET:.0f} s (stretch {FIRST_SCAN_STRETCH:.0f} s)",
               (first_s <= FIRST_SCAN_TARGET) if full else None, found=stored, speed_target=FIRST_SCAN_TARGET,
               note=f"{site.urls:,} URLs listed; {stored:,} stored with lastmod, changefreq and priority"),
        Figure("inventory.parse", "inventory: same crawl, pages not stored", unstored.measured.seconds, "s",
               found=listed, note="StorePipeline left out: fetch, parse and normalize only, for the no-database "
                                  f"anchors; peak RSS {unstored.measured.peak_rss / MB:.0f} MB"),
        Figure("inventory.rescan", "inventory: rescan, site unchanged", rescan_s, "s", "< first scan",
               rescan_s < first_s and changed == 0, found=stored_after,
               note=f"{not_modified} sitemaps answered 304; {changed} page rows changed"),
        Figure("inventory.rss", "inventory: peak RSS of the crawl", peak_mb, "MB", f"≤ {PEAK_RSS_TARGET_MB} MB",
               peak_mb <= PEAK_RSS_TARGET_MB,
               note=f"first scan {first.measured.peak_rss / MB:.0f} MB, rescan {rescan.measured.peak_rss / MB:.0f} MB"),
        Figure("inventory.stall", "inventory: longest reactor stall", stall, "ms", f"≤ {STALL_TARGET_MS} ms",
               0 <= stall <= STALL_TARGET_MS, note=f"{stalls} stalls over 100 ms in the three crawls"),
    ]


# --- profiling ------------------------------------------------------------------------------


def py_spy() -> str | None:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


def profile(site: BenchSite, proxy: str, top: int = 25) -> str:
    """Run a first scan under py-spy (all threads, 250 samples/s) and summarize where time goes."""
    tool = py_spy()
    if tool is None:
        return "profile: py-spy not found (pip install py-spy into the venv; it is not a requirement)"
    raw = run_dir() / "profile-first.txt"
    with fresh_postgres() as database_url:
        run_crawl(database_url, proxy, site.host, "profile",
                  prefix=(tool, "record", "--rate", "250", "--format", "raw", "--threads", "-o", str(raw), "--"))
    return summarize_profile(raw.read_text(), top)


# Where a sample's time goes: the innermost frame whose file matches decides (first rule wins).
AREAS = (
    ("startup: imports", ("<frozen importlib", "importlib/")),
    ("waiting (threads blocked)", ("threading.py", "selectors.py", "asyncio/unix_events.py", "queue.py")),
    ("sitemap parsing (scrapersky.sitemaps)", ("scrapersky/sitemaps/",)),
    ("store: SQL writes (scrapersky.db)", ("scrapersky/db/",)),
    ("store pipeline (scrapersky.pipelines)", ("scrapersky/pipelines.py",)),
    ("normalize (scrapersky.normalize)", ("scrapersky/normalize.py",)),
    ("spider (scrapersky.spiders)", ("scrapersky/spiders/",)),
    ("homepage metadata (scrapersky.metadata)", ("scrapersky/metadata/",)),
    ("job records (scrapersky.extensions)", ("scrapersky/extensions.py",)),
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

    return "\n".join([
        f"profile of a first scan: {total} samples at 250/s over all threads",
        "by area (innermost matching frame):", *share(areas),
        "by thread:", *share(threads),
        f"self time, top {top}:", *share(own, top),
        f"inclusive time, top {top}:", *share(inclusive, top),
    ])


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
