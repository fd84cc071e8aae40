"""Start-up: process start of `scrapy crawl sitemap -a domain=… -a max_pages=0` to its first request.

The clock starts just before the process is spawned and stops when the first request reaches
Scrapy's downloader (it has left the engine and passed the downloader middlewares), as noted by
the FirstRequest extension (bench/probes/first_request.py), which then stops the crawl. Everything
a run does before it can ask anything is inside: the interpreter, imports, settings and argument
checks, the schema check, the crawler, the job rows. Each run gets a fresh migrated PostgreSQL
database and the small bench site behind the fixture web.

Every run may write and reuse its bytecode (PYTHONDONTWRITEBYTECODE is dropped for them), as an
installed or deployed copy has it: the untimed first run of each compiles it, and compiling the
sources again at every start is no cost a deployment pays.

The anchor is Scrapy alone: a one-request spider (bench/probes/one_request.py) run with
`scrapy runspider` outside any project, with Scrapy's default settings, to the same first request.
With a baseline (bench.baseline), its start-ups, ours and the anchor's alternate (the order turns
every round) after that first run; medians are compared.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import Figure, fresh_postgres, run_dir, scan_command
from bench.baseline import Baseline
from bench.inventory import crawl_env
from bench.site import ROOT, build_site, serve

ROUNDS = 7  # start-ups of each: one takes about two seconds, and varies by a few tenths
TARGET = 0.5  # the working tree at most half the baseline's time
SITE_URLS = 1_000  # the crawl stops at its first request: the site's size does not matter
PROBES = Path(__file__).resolve().parent / "probes"
PROBE = "first_request.FirstRequest"
TIMEOUT = 120.0


class StartupError(RuntimeError):
    pass


@dataclass
class Launch:
    command: list[str]
    cwd: Path
    env: dict[str, str]


SPIDER_EXTENSIONS = """
import json
import scrapersky.settings as s
spider = getattr(s, "sitemap_spider_settings", {})
print(json.dumps(spider.get("EXTENSIONS", getattr(s, "EXTENSIONS", {}))))
"""


@dataclass
class Tree:
    """A tree of this project: its directory (first on PYTHONPATH too) and how to get a database."""

    label: str
    key: str  # in log file names
    root: Path
    database: Callable[[], AbstractContextManager[str]]
    seconds: list[float] = field(default_factory=list)

    @functools.cached_property
    def extensions(self) -> dict[str, int | None]:
        """The sitemap spider's EXTENSIONS in the tree (its custom_settings, or the project's
        settings in trees from before them): the probe joins them, as bench.probe joins ours."""
        done = subprocess.run(
            [sys.executable, "-c", SPIDER_EXTENSIONS],
            cwd=self.root,
            env={**os.environ, "PYTHONPATH": str(self.root)},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise StartupError(f"{self.label}: its settings: {done.stderr.strip()[-300:]}")
        return json.loads(done.stdout)

    @contextmanager
    def launch(self, proxy: str, host: str, stamp: Path) -> Iterator[Launch]:
        with self.database() as database_url:
            yield Launch(
                scan_command(
                    host,
                    EXTENSIONS=json.dumps({**self.extensions, PROBE: 0}),
                    BENCH_FIRST_REQUEST_FILE=str(stamp),
                ),
                self.root,
                {
                    **crawl_env(database_url, proxy),
                    "PYTHONPATH": os.pathsep.join((str(self.root), str(PROBES))),
                },
            )


@dataclass
class ScrapyAlone:
    """The anchor: Scrapy's own start-up, with no project, settings or database."""

    label: str = "Scrapy alone (one-request spider, no project)"
    key: str = "scrapy-alone"
    seconds: list[float] = field(default_factory=list)

    @contextmanager
    def launch(self, proxy: str, host: str, stamp: Path) -> Iterator[Launch]:
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        # A directory outside the repository, so that no scrapy.cfg makes it a project run.
        with tempfile.TemporaryDirectory(prefix="scrapersky-startup-") as cwd:
            yield Launch(
                [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "runspider",
                    str(PROBES / "one_request.py"),
                    "-a",
                    f"url=http://{host}/robots.txt",
                    "-s",
                    f"EXTENSIONS={json.dumps({PROBE: 0})}",
                    "-s",
                    f"BENCH_FIRST_REQUEST_FILE={stamp}",
                ],
                Path(cwd),
                {**env, "http_proxy": proxy, "https_proxy": proxy, "PYTHONPATH": str(PROBES)},
            )


Subject = Tree | ScrapyAlone


def first_request(subject: Subject, proxy: str, host: str, label: str) -> float:
    """Seconds from spawning the subject's `scrapy` process to its first request reaching the
    downloader."""
    stamp = run_dir() / f"startup-{label}.txt"
    log = run_dir() / f"startup-{label}.log"
    with subject.launch(proxy, host, stamp) as launch, open(log, "w") as out:
        env = {k: v for k, v in launch.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        started = time.monotonic()
        process = subprocess.Popen(
            launch.command, cwd=launch.cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if not stamp.is_file():
        raise StartupError(f"{label}: no request reached the downloader; see {log}")
    return float(stamp.read_text().split()[0]) - started


def run(baseline: Baseline | None = None, rounds: int = ROUNDS) -> list[Figure]:
    ours = Tree("working tree", "working-tree", ROOT, fresh_postgres)
    theirs = None
    if baseline is not None:
        theirs = Tree(baseline.label, "baseline", baseline.root, baseline.database)
    alone = ScrapyAlone()
    subjects: list[Subject] = [ours, alone] if theirs is None else [ours, theirs, alone]
    site = build_site(SITE_URLS)
    with serve(site.root) as proxy:
        for subject in subjects:
            first_request(subject, proxy, site.host, f"{subject.key}-warm-up")
        for round_ in range(rounds):
            turn = round_ % len(subjects)
            for subject in subjects[turn:] + subjects[:turn]:
                subject.seconds.append(
                    first_request(subject, proxy, site.host, f"{subject.key}-{round_}")
                )
    return figures(ours, theirs, alone)


def figures(ours: Tree, theirs: Tree | None, alone: ScrapyAlone) -> list[Figure]:
    median = statistics.median(ours.seconds)
    alone_median = statistics.median(alone.seconds)
    anchor = Figure(
        "startup.scrapy",
        f"start-up: {alone.label}",
        alone_median,
        "s",
        versus=f"working tree {median / alone_median:.2f} × this",
        note=f"median of {_runs(alone)}; Scrapy's default settings, no database",
    )
    if theirs is None:
        return [
            Figure(
                "startup.first_request",
                "start-up: process start → first request",
                median,
                "s",
                note=f"median of {_runs(ours)}",
            ),
            anchor,
        ]
    ratio = median / statistics.median(theirs.seconds)
    versus = f"working tree {ratio:.2f} × baseline"
    return [
        Figure(
            "startup.first_request",
            "start-up: process start → first request",
            median,
            "s",
            f"≤ {TARGET:g} × baseline",
            ratio <= TARGET,
            versus=versus,
            note=f"median of {_runs(ours)}, alternating with the baseline's and the anchor's",
        ),
        Figure(
            "startup.baseline",
            f"start-up: baseline {theirs.label}",
            statistics.median(theirs.seconds),
            "s",
            versus=versus,
            note=f"median of {_runs(theirs)}",
        ),
        anchor,
    ]


def _runs(subject: Subject) -> str:
    return f"{len(subject.seconds)} runs: {', '.join(f'{s:.2f}' for s in subject.seconds)} s"
