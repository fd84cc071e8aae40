"""The project as it ships to Scrapyd nodes: the egg that scrapyd-deploy builds and the copy that
`pip install .` installs carry every file of the package (the top-level migrations/, which
setup.py ships inside it, and console assets included), so the nodes in the other tests run what
production would run; and the installed copy migrates a database on its own, outside the
checkout, as an operator of the Docker image runs `scrapy migrate`. The egg carries bytecode
that zipimport loads, so a run does not compile the package at every start."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
import zipimport
from pathlib import PurePosixPath

from scrapersky.db.schema import SCHEMA_HEAD, current_revision
from tests.support.scrapyd_nodes import ROOT, project_build


def _package_files() -> set[str]:
    """The work tree's package files, named as they are installed: migrations/X is
    scrapersky/migrations/X."""
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "scrapersky",
            "migrations",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        f"scrapersky/{name}" if name.startswith("migrations/") else name
        for name in listed
        if (ROOT / name).is_file()
    }


def test_the_egg_and_the_installed_copy_carry_every_package_file(scrapyd):
    build = project_build()
    files = _package_files()
    assert "scrapersky/api/console/static/index.html" in files
    assert "scrapersky/migrations/env.py" in files
    assert "scrapersky/migrations/script.py.mako" in files
    assert any(PurePosixPath(name).parent.name == "versions" for name in files)
    with zipfile.ZipFile(build.egg) as egg:
        in_egg = set(egg.namelist())
    assert sorted(files - in_egg) == []
    installed = {
        path.relative_to(build.site).as_posix()
        for path in (build.site / "scrapersky").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert sorted(files - installed) == []


def test_the_egg_carries_bytecode_that_zipimport_loads_instead_of_compiling(scrapyd):
    egg = project_build().egg
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
    sources = {name for name in names if name.endswith(".py")}
    assert "scrapersky/pipelines.py" in sources
    assert sorted(name for name in sources if name + "c" not in names) == []
    # Code compiled from the zip's source would be named by the egg's path; code read from the
    # bytecode keeps the name it was compiled under.
    for package, module in [("scrapersky", "pipelines"), ("scrapersky/db", "bulk")]:
        code = zipimport.zipimporter(f"{egg}/{package}/").get_code(module)
        assert code.co_filename == f"{package}/{module}.py"


def test_the_installed_copy_migrates_a_fresh_database_outside_the_checkout(scrapyd, tmp_path):
    site = project_build().site
    # An operator's directory: its own scrapy.cfg, nothing of the checkout on the import path.
    (tmp_path / "scrapy.cfg").write_text("[settings]\ndefault = scrapersky.settings\n")
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "PYTHON"))}
    env.update(DATABASE_URL=url, PYTHONPATH=str(site))
    migrated = subprocess.run(
        [sys.executable, "-m", "scrapy", "migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert migrated.stdout.strip() == f"database schema upgraded: empty -> {SCHEMA_HEAD}"
    assert current_revision(url) == SCHEMA_HEAD
