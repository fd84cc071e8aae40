"""One version string: the package metadata, the User-Agent and the changelog agree with
scrapersky.__version__."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from importlib.metadata import version
from pathlib import Path

from scrapy.utils.project import get_project_settings

import scrapersky

ROOT = Path(__file__).resolve().parents[2]
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$")


def test_the_package_metadata_reads_the_one_version_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert version("scrapersky") == scrapersky.__version__


def test_the_user_agent_names_the_version():
    agent = get_project_settings().get("USER_AGENT")
    assert agent.startswith(f"ScraperSky/{scrapersky.__version__} (+")


def test_the_changelog_lists_dated_versions_newest_first_and_the_newest_is_this_one():
    headings = [
        line for line in (ROOT / "CHANGELOG.md").read_text().splitlines() if line.startswith("## ")
    ]
    assert headings[0] == "## [Unreleased]"
    releases = [RELEASE.match(line) for line in headings[1:]]
    assert all(releases), [h for h, r in zip(headings[1:], releases, strict=True) if not r]
    versions = [tuple(map(int, r.group(1).split("."))) for r in releases if r]
    dates = [date.fromisoformat(r.group(2)) for r in releases if r]
    assert versions == sorted(versions, reverse=True) and dates == sorted(dates, reverse=True)
    assert releases[0] and releases[0].group(1) == scrapersky.__version__
