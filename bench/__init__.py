"""Benchmarks that print their figures: `python -m bench` (see bench/README.md).

Every benchmark module returns a list of `Figure`s; `format_table` prints them as one table.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1024 * 1024
OUT = Path(__file__).resolve().parent / "out"
RUNS_KEPT = 5


@functools.cache
def run_dir() -> Path:
    """This process's directory for logs and scratch files, so concurrent bench runs never share one.

    The most recent few are kept (bench/out/runs/); older ones are removed once their process is gone.
    """
    runs = OUT / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for old in sorted(runs.iterdir())[:-RUNS_KEPT]:
        owner = old.name.rsplit("-", 1)[-1]
        if not (owner.isdigit() and psutil.pid_exists(int(owner))):
            shutil.rmtree(old, ignore_errors=True)
    path = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    path.mkdir()
    return path


@dataclass
class Figure:
    key: str  # stable id used to relate figures, e.g. "inventory.first", "anchor.usp"
    name: str
    value: float
    unit: str  # "s", "ms", "MB", "rows/s"
    target: str = ""
    passed: bool | None = None  # None: no target, or not judged at this size
    found: int | None = None  # URLs found / rows handled, where that applies
    versus: str = ""  # ratios against the other figures
    note: str = ""
    # A time (unit "s") or rate target that depends on the machine's speed: judged again as
    # `scaled` against the target scaled by how this machine ran the anchors (bench.calibration).
    speed_target: float | None = None
    scaled: bool | None = None


@dataclass
class Measured:
    seconds: float
    peak_rss: int  # bytes, summed over the process tree, polled
    returncode: int


def run_measured(
    command: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    poll: float = 0.02,
    timeout: float = 1800,
) -> Measured:
    """Run a command to its end: wall time, and the peak RSS of its process tree (psutil polling)."""
    peak = 0
    with open(log, "w") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            root = psutil.Process(process.pid)
            while process.poll() is None:
                peak = max(peak, _tree_rss(root))
                if time.monotonic() - started > timeout:
                    process.kill()
                time.sleep(poll)
        finally:
            if process.poll() is None:
                process.kill()
            returncode = process.wait()
        seconds = time.monotonic() - started
    return Measured(seconds, peak, returncode)


def scan_command(host: str, **settings: str) -> list[str]:
    """`scrapy crawl sitemap` of one domain's sitemaps (no page fetches), as every benchmark runs
    it; `settings` go on the command line (-s NAME=value)."""
    command = [sys.executable, "-m", "scrapy", "crawl", "sitemap", "-a", f"domain={host}"]
    command += ["-a", "max_pages=0"]
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    return command


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, migrated PostgreSQL database (dropped afterwards); yields its URL."""
    # Imported here: bench.listers' child processes import this package and must stay light.
    from tests.support.databases import fresh_postgres

    with fresh_postgres() as url:
        yield url


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for process in processes:
        with suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def format_value(figure: Figure) -> str:
    if figure.unit == "rows/s":
        return f"{figure.value:,.0f} rows/s"
    if figure.unit == "MB":
        return f"{figure.value:,.0f} MB"
    if figure.unit == "ms":
        return f"{figure.value:,.0f} ms"
    if figure.unit == "×":
        return f"{figure.value:.2f}×"
    if figure.unit == "domains/s":
        return f"{figure.value:,.1f} domains/s"
    return f"{figure.value:,.2f} {figure.unit}"


def format_table(figures: Sequence[Figure]) -> str:
    header = ("benchmark", "figure", "target", "ok", "ok scaled", "URLs/rows", "versus")
    verdict = {True: "yes", False: "NO", None: ""}
    lines = [
        (
            f.name,
            format_value(f),
            f.target,
            verdict[f.passed],
            verdict[f.scaled],
            "" if f.found is None else f"{f.found:,}",
            f.versus,
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    out = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=False)).rstrip(), rule]
    out += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip()
        for row in lines
    ]
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)
