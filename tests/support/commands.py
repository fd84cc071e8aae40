"""Real `scrapy` commands of this project, run in subprocesses, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.fixture_web import FixtureWeb

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def scrapy_env(database_url: str, web: FixtureWeb | None = None, **extra: str) -> dict[str, str]:
    """The environment of a command run against the fixture web: its made-up .test names
    accepted, the address guard off (they resolve nowhere), AutoThrottle off, this tree first on
    the path."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        DATABASE_URL=database_url,
        SCRAPERSKY_TEST_DOMAINS="true",
        SCRAPERSKY_ALLOW_PRIVATE_NETWORKS="true",
        AUTOTHROTTLE_ENABLED="false",
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    if web is not None:
        env["http_proxy"] = env["https_proxy"] = web.proxy_url
    env.update(extra)
    return env


def scrapy(*args: str, env: dict[str, str], timeout: float = 120, cwd: Path = ROOT) -> Result:
    """Run a real `scrapy` command of this project."""
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def start_scrapy(
    *args: str, env: dict[str, str], cwd: Path = ROOT, log: Path | None = None
) -> subprocess.Popen:
    """Start a real `scrapy` command in the background (for kill and concurrency tests)."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (the child owns it)
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
