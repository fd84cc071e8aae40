"""The project as it ships to Scrapyd nodes: the egg that scrapyd-deploy builds and the copy that
`pip install .` installs carry every file of the package (migrations and console assets
included), so the nodes in the other tests run what production would run."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import PurePosixPath

from tests.support.scrapyd_nodes import ROOT, project_build


def _package_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "scrapersky"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {name for name in listed if (ROOT / name).is_file()}


def test_the_egg_and_the_installed_copy_carry_every_package_file(scrapyd):
    build = project_build()
    files = _package_files()
    assert "scrapersky/console/static/index.html" in files
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
