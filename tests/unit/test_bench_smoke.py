"""The benchmarks run end to end at a tiny size and print their table (no timing is judged here)."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from bench import Figure, batch, calibration, format_table, goals
from bench.__main__ import compare, main
from bench.inventory import summarize_profile

EXPECTED_ROWS = (
    "inventory: first scan → PostgreSQL",
    "inventory: same crawl, pages not stored",
    "inventory: rescan, site unchanged",
    "inventory: peak RSS of the crawl",
    "inventory: longest reactor stall",
    "write path: PostgreSQL, first scan",
    "write path: PostgreSQL, rescan unchanged",
    "write path: SQLite, first scan",
    "anchor: ultimate-sitemap-parser (HTTP, no database)",
    "anchor: Scrapy SitemapSpider (HTTP, no database)",
    "anchor: lxml iterparse from disk",
    "anchor: PostgreSQL raw COPY",
    "anchor: per-item ORM get-or-create",
    "parsing: metadata of a 105 KB homepage",
    "parsing: hostile XML refused (entities, DTDs)",
    "scale: first scan of 10,000 URLs → PostgreSQL",
    "scale: peak RSS of the crawl",
    "goal: first scan → PostgreSQL over the slower of the crawl not stored and raw COPY",
    "goal: crawl not stored over lxml iterparse from disk",
    "goal: 10 × the site, first scan over the first scan",
    "goal: 10 × the site, peak RSS",
    "discovery: requests per domain, fixture and corpus sites",
    "discovery: sites where a peer finds a URL ScraperSky misses",
)


@pytest.fixture(scope="module")
def bench_output(postgres_server) -> str:
    """One run of the whole bench at a tiny size, beside HEAD as the baseline: its table."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                *("--urls", "1000", "--orm-rows", "20", "--skip-batch", "--rounds", "1"),
                *("--baseline", "HEAD"),
            ]
        )
    assert code == 0, printed.getvalue()[-3000:]
    return printed.getvalue()


@pytest.mark.volume
def test_bench_runs_and_prints_one_table(bench_output):
    out = bench_output
    table = {
        line.split("  ")[0]: line
        for line in out.splitlines()
        if line.startswith(
            ("inventory:", "write", "anchor", "parsing:", "scale:", "goal:", "discovery:")
        )
    }
    for name in EXPECTED_ROWS:
        assert name in table, f"missing row {name!r}"
    # Every tool found every URL, and ours is compared with each anchor.
    for name in EXPECTED_ROWS[:3] + EXPECTED_ROWS[8:11]:
        assert re.search(r"\s1,000(\s|$)", table[name]), table[name]
    for name in EXPECTED_ROWS[8:11]:
        assert "URLs: ours ≥ anchor" in table[name]
    # The figure column itself (the target column also says "ms"): a missing probe file shows as -1 ms.
    for name in ("inventory: longest reactor stall", *EXPECTED_ROWS[13:15]):
        figure = re.split(r"\s{2,}", table[name].strip())[1]
        assert re.fullmatch(r"[\d,]+(\.\d+)? ms", figure), table[name]
    assert "0 page rows changed" in out and "21 sitemaps answered 304" in out
    # The site ten times the size: every row stored, under its index of indexes.
    assert re.search(r"\s10,000\s+\d+\.\d\d × the 1,000-URL first scan", table[EXPECTED_ROWS[15]])
    assert "10,000 of 10,000 rows stored" in out
    assert re.search(r"^start-up: process start → first request +\d+\.\d\d s\b", out, re.M)
    assert re.search(r"^start-up: Scrapy alone \(one-request spider, no project\) +\d", out, re.M)
    # Discovery: no site where usp or Scrapy finds a URL that ScraperSky misses, and the
    # per-site table beside them.
    assert re.search(r"sites where a peer finds a URL ScraperSky misses +0\.00 sites +0 +yes", out)
    assert re.search(r"^demo\.test +7 +\d+ +\d+ +20 +20 +20 +0$", out, re.M)


@pytest.mark.volume
def test_baseline_and_churn_rows_are_printed(bench_output):
    out = bench_output
    baseline = next(
        line
        for line in out.splitlines()
        if line.startswith("inventory: first scan, baseline HEAD (")
    )
    assert re.search(r"working tree \d+\.\d\d × baseline", baseline)
    churn = next(
        line for line in out.splitlines() if line.startswith("inventory: rescan, 2% removed")
    )
    assert re.search(r"\s60\s", churn)  # 20 added + 20 relisted written, 20 removed
    assert (
        "page rows written: 40 inserted or changed + 20 marked removed; history page_added 20, "
        "page_changed 20, page_removed 20, sitemap_changed 20: exact"
    ) in out


@pytest.mark.volume
def test_startup_is_timed_beside_the_baseline_and_scrapy_alone(bench_output):
    lines = [line for line in bench_output.splitlines() if line.startswith("start-up:")]
    ours, baseline, alone = lines[:3]
    assert ours.startswith("start-up: process start → first request ")
    assert "≤ 0.5 × baseline" in ours and re.search(r"working tree \d+\.\d\d × baseline", ours)
    assert baseline.startswith("start-up: baseline HEAD (") and re.search(r"\d\.\d\d s", baseline)
    assert alone.startswith("start-up: Scrapy alone (one-request spider, no project) ")
    assert re.search(r"working tree \d+\.\d\d × this", alone)


def test_compare_states_ratios_both_ways():
    figures = [
        Figure("inventory.first", "ours", 10.0, "s", found=100),
        Figure("anchor.usp", "usp", 35.0, "s", found=100),
        Figure("anchor.lxml", "lxml", 2.5, "s", found=120),
        Figure("write.postgres.first", "write", 90_000, "rows/s"),
        Figure("anchor.orm", "orm", 450, "rows/s"),
    ]
    compare(figures)
    by_key = {f.key: f for f in figures}
    assert by_key["anchor.usp"].versus == "ours 3.5× faster; URLs: ours ≥ anchor"
    assert by_key["anchor.lxml"].versus == "ours 4.0× slower; URLs: ours < anchor"
    assert by_key["anchor.orm"].versus == "write path (first scan) 200.0× faster"


def test_table_has_a_row_per_figure_and_lists_notes():
    figures = [
        Figure("a", "first", 1.5, "s", target="≤ 2 s", passed=True, found=1_000_000),
        Figure("b", "second", 120_000, "rows/s", passed=False, note="why it missed"),
    ]
    lines = format_table(figures).splitlines()
    assert lines[2].split() == ["first", "1.50", "s", "≤", "2", "s", "yes", "1,000,000"]
    assert lines[3].split() == ["second", "120,000", "rows/s", "NO"]
    assert lines[-1] == "  second: why it missed"


def test_profile_summary_attributes_samples_to_areas_and_threads():
    collapsed = "\n".join(
        [
            "thread (1): MainThread;run (scrapy/core/engine.py:10);_feed (/x/scrapersky/sitemaps/parse.py:281) 60",
            "thread (2): asyncio_0;run (threading.py:9);_merge_pages_postgres (/x/scrapersky/db/bulk.py:136) 30",
            "thread (1): MainThread;<module> (<frozen importlib._bootstrap>:1) 10",
        ]
    )
    summary = summarize_profile(collapsed, top=3)
    assert "100 samples" in summary
    assert "   60.0%  sitemap parsing (scrapersky.sitemaps)" in summary
    assert "   30.0%  store: SQL writes (scrapersky.db)" in summary
    assert "   10.0%  startup: imports" in summary
    assert "   70.0%  MainThread" in summary and "   30.0%  asyncio_0" in summary


def _anchors(scale: float, urls: int = 1_000_000) -> list[Figure]:
    """Anchor figures as a machine `scale` times slower than the reference would measure them."""
    return [
        Figure("anchor.usp", "usp", 35.0 * scale, "s", found=urls),
        Figure("anchor.scrapy", "scrapy", 15.5 * scale, "s", found=urls),
        Figure("anchor.lxml", "lxml", 3.0 * scale, "s", found=urls),
        Figure("anchor.copy", "copy", urls / (8.0 * scale), "rows/s", found=urls),
    ]


def test_speed_targets_are_judged_again_scaled_to_the_machine():
    first = Figure("inventory.first", "ours", 25.0, "s", passed=False, speed_target=15.0)
    rate = Figure(
        "write.postgres.first", "write", 50_000, "rows/s", passed=False, speed_target=80_000
    )
    memory = Figure("inventory.rss", "rss", 200, "MB", passed=True)
    machine = calibration.apply([*_anchors(2.0), first, rate, memory])
    assert machine is not None and machine.value == pytest.approx(2.0)
    assert first.scaled is True and rate.scaled is True  # 25 s ≤ 15 s × 2; 50,000 ≥ 80,000 / 2
    assert memory.scaled is None  # memory does not depend on the machine's speed
    slow = Figure("inventory.first", "ours", 31.0, "s", passed=False, speed_target=15.0)
    calibration.apply([*_anchors(2.0), slow])
    assert slow.scaled is False


def test_no_calibration_without_every_anchor_at_full_size():
    first = Figure("inventory.first", "ours", 25.0, "s", passed=None, speed_target=15.0)
    assert calibration.apply([*_anchors(2.0, urls=1000), first]) is None
    assert calibration.apply([*_anchors(2.0)[:3], first]) is None
    assert first.scaled is None


def test_batch_targets_need_every_domain_complete():
    fast = batch.Pass("batch runs", 1000, 40.0, 1000, 4)
    single = batch.Pass("one job per domain", 1000, 1200.0, 1000, 1000)
    runs, rate, _ = batch.figures(fast, single, None, "postgresql")
    assert runs.passed is True and rate.passed is True and rate.value == 25.0
    short = batch.Pass("batch runs", 1000, 40.0, 990, 4)
    runs, rate, _ = batch.figures(short, single, None, "postgresql")
    assert runs.passed is False and rate.passed is False and rate.speed_target is None
    runs, rate, _ = batch.figures(fast, single, None, "postgresql", full=False)
    assert runs.passed is None and rate.passed is None


def test_batch_beside_a_baseline_says_where_a_domain_goes():
    ours = batch.Pass("batch runs (working tree)", 1000, 40.0, 1000, 4, 3000, 9000)
    theirs = batch.Pass("batch runs (baseline main (0123456789))", 1000, 80.0, 1000, 4, 3000, 15000)
    rate, baseline = batch.figures(ours, None, theirs, "postgresql")
    assert baseline.key == "batch.baseline_rate" and baseline.value == 12.5
    assert baseline.name == "batch runs: domains per second, baseline main (0123456789)"
    assert baseline.versus == "working tree 2.00 × this"
    assert "per domain: 3.0 requests, 9.0 database transactions, 0.004 process starts" in rate.note
    [goal] = goals.judge([rate, baseline], full=True)
    assert (goal.key, goal.value, goal.passed) == ("goal.batch", 2.0, True)
    assert goal.versus == "25.0 domains/s against the baseline 12.5 domains/s"


def test_goals_are_ratios_of_figures_from_the_same_run():
    figures = [
        Figure("inventory.first", "first", 12.0, "s", found=1_000_000),
        Figure("inventory.parse", "parse", 8.0, "s"),
        Figure("anchor.lxml", "lxml", 5.0, "s"),
        Figure("anchor.copy", "copy", 100_000, "rows/s", found=1_000_000),  # 10 s for the rows
        Figure("startup.first_request", "ours", 1.8, "s"),
        Figure("startup.baseline", "theirs", 2.0, "s"),
    ]
    judged = {goal.key: goal for goal in goals.judge(figures, full=True)}
    assert set(judged) == {"goal.write", "goal.parse", "goal.startup"}  # no scale, no batch figures
    assert judged["goal.write"].value == pytest.approx(
        1.2
    )  # 12 s over COPY's 10 s (slower than 8 s)
    assert judged["goal.write"].passed is True
    assert judged["goal.write"].versus == "12.00 s against the slower of them 10.00 s"
    assert judged["goal.parse"].value == pytest.approx(1.6) and judged["goal.parse"].passed is False
    assert (
        judged["goal.startup"].value == pytest.approx(0.9)
        and judged["goal.startup"].passed is False
    )
    assert all(g.passed is None for g in goals.judge(figures, full=False))
