"""Packaging: plain Alembic works beside `scrapy migrate`, and the migrations ship in the package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scrapersky.db.schema import SCHEMA_HEAD, current_revision

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_plain_alembic_upgrades_and_reports_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'alembic.db'}"
    env = {**os.environ, "DATABASE_URL": url}
    upgrade = subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr[-2000:]
    assert current_revision(url) == SCHEMA_HEAD
    current = subprocess.run(
        [str(BIN / "alembic"), "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert current.stdout.strip() == f"{SCHEMA_HEAD} (head)"


def test_scrapy_migrate_command_reports_before_and_after(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    env = {**os.environ, "DATABASE_URL": url}

    def migrate() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "scrapy", "migrate"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = migrate()
    assert (
        first.returncode == 0
        and first.stdout.strip() == f"database schema upgraded: empty -> {SCHEMA_HEAD}"
    )
    again = migrate()
    assert (
        again.returncode == 0
        and again.stdout.strip() == f"database schema is current ({SCHEMA_HEAD})"
    )
