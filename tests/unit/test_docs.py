"""The README and docs/ point at things that exist: the README stays a short map (under 150
lines), and every relative link and every `scrapersky/...` path they name resolves in the
checkout. A moved module or a renamed guide fails here instead of leaving a dead pointer.
CHANGELOG.md is left out: it names paths as they were when each version shipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "bench" / "README.md",
    ROOT / "tests" / "README.md",
    ROOT / "deploy" / "README.md",
]
GENERATED = ("bench/out/",)  # made by a run, git-ignored: absent from a fresh clone
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Source files and folders of the checkout (not generated output, not stats keys like
# `scrapersky/dropped_urls/...`).
PACKAGE_PATH = re.compile(
    r"`((?:scrapersky|migrations|tests|bench|deploy)/(?:[\w-]+/)*(?:[\w-]+\.(?:py|md|conf|ini|toml|cfg))?)`"
)


def test_the_readme_is_a_short_map():
    assert len((ROOT / "README.md").read_text().splitlines()) < 150


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_link_and_named_path_resolves(guide):
    text = guide.read_text()
    dead = [
        target
        for target in LINK.findall(text)
        if not target.startswith(("http:", "https:", "mailto:"))
        and not (guide.parent / target).exists()
    ]
    dead += [
        path
        for path in PACKAGE_PATH.findall(text)
        if not path.startswith(GENERATED) and not (ROOT / path).exists()
    ]
    assert dead == []
