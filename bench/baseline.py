"""A baseline commit to time beside the working tree in the same run (`python -m bench --baseline REF`).

These machines vary by 1.5–2× from one hour to the next, so a figure is only comparable with one
measured in the same run. The baseline's tree is exported with `git archive` into a temporary
directory (the repository is not touched) and runs with this venv's packages, its own code first
on PYTHONPATH, from its own directory (its scrapy.cfg, settings and migrations).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import Measured, run_dir, run_measured, scan_command
from bench.site import ROOT


class BaselineError(RuntimeError):
    pass


class Baseline:
    def __init__(self, ref: str, rounds: int = 3) -> None:
        self.ref = ref
        self.rounds = rounds  # first scans of each, alternating: one pair is within the noise
        commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
        self.label = f"{ref} ({commit[:10]})"
        self.root = Path(tempfile.mkdtemp(prefix="scrapersky-baseline-"))
        archive = self.root.with_suffix(".tar")
        _git("archive", "--format=tar", f"--output={archive}", commit)
        with tarfile.open(archive) as tar:
            tar.extractall(self.root, filter="data")
        archive.unlink()
        self.env_extra = {"PYTHONPATH": str(self.root)}
        where = self._python("import scrapersky; print(scrapersky.__file__)").strip()
        if not where.startswith(str(self.root)):
            raise BaselineError(f"the baseline's code is not the one imported ({where})")

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    @contextmanager
    def database(self) -> Iterator[str]:
        """A fresh PostgreSQL database migrated with the baseline's own migrations."""
        from tests.support.databases import fresh_postgres

        with fresh_postgres(migrate=False) as url:
            self._python(f"from scrapersky.db.schema import upgrade; upgrade({url!r})")
            yield url

    def first_scan(self, database_url: str, proxy: str, host: str, label: str) -> Measured:
        """The baseline's `scrapy crawl` of the bench site (no probe: the baseline may not know it)."""
        return plain_crawl(
            database_url, proxy, host, label, cwd=self.root, env_extra=self.env_extra
        )

    def _python(self, code: str) -> str:
        env = {**os.environ, **self.env_extra}
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=self.root, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BaselineError(f"baseline {self.ref}: {done.stderr.strip().splitlines()[-1:]}")
        return done.stdout


def plain_crawl(
    database_url: str,
    proxy: str,
    host: str,
    label: str,
    *,
    cwd: Path = ROOT,
    env_extra: dict[str, str] | None = None,
) -> Measured:
    """A first scan as a user runs it, with no bench extension: the same command for both trees."""
    from bench.inventory import crawl_env

    log = run_dir() / f"crawl-{label}.log"
    env = {**crawl_env(database_url, proxy), **(env_extra or {})}
    measured = run_measured(
        scan_command(host),
        env=env,
        cwd=cwd,
        log=log,
    )
    if measured.returncode != 0:
        raise BaselineError(f"crawl {label} exited {measured.returncode}; see {log}")
    return measured


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise BaselineError(f"git {args[0]}: {done.stderr.strip()}")
    return done.stdout
