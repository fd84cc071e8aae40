"""Packaging: plain Alembic works beside `scrapy migrate`, and the migrations ship in the package.
`scrapy migrate` itself is tested, on both databases, in test_readme_promises.py."""

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
