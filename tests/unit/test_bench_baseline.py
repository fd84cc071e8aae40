"""`python -m bench --baseline REF` times REF's first scan beside ours (end to end at a tiny size)."""

from __future__ import annotations

import re

import pytest

from bench.__main__ import main
from tests.conftest import require_postgres


@pytest.mark.volume
def test_baseline_and_churn_rows_are_printed(postgres_server, capsys):
    require_postgres()
    assert (
        main(["--urls", "1000", "--only", "inventory", "--baseline", "HEAD", "--rounds", "1"]) == 0
    )
    out = capsys.readouterr().out
    baseline = next(
        line
        for line in out.splitlines()
        if line.startswith("inventory: first scan, baseline HEAD (")
    )
    assert re.search(r"working tree \d+\.\d\d × baseline", baseline)
    churn = next(
        line for line in out.splitlines() if line.startswith("inventory: rescan, 2% removed")
    )
    assert re.search(r"\s60\s", churn)  # 20 added + 20 relisted written, 20 removed
    assert (
        "page rows written: 40 inserted or changed + 20 marked removed; history page_added 20, "
        "page_changed 20, page_removed 20, sitemap_changed 20: exact"
    ) in out


def test_an_unknown_ref_is_one_line_and_exit_2(capsys):
    assert (
        main(["--urls", "1000", "--only", "inventory", "--baseline", "no-such-ref-anywhere"]) == 2
    )
    err = capsys.readouterr().err
    assert (
        err.startswith("error: --baseline no-such-ref-anywhere: git rev-parse")
        and err.count("\n") == 1
    )


@pytest.mark.volume
def test_startup_is_timed_beside_the_baseline_and_scrapy_alone(postgres_server, capsys):
    require_postgres()
    assert main(["--only", "startup", "--baseline", "HEAD", "--rounds", "1"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("start-up:")]
    ours, baseline, alone = lines[:3]
    assert ours.startswith("start-up: process start → first request ")
    assert "≤ 0.5 × baseline" in ours and re.search(r"working tree \d+\.\d\d × baseline", ours)
    assert baseline.startswith("start-up: baseline HEAD (") and re.search(r"\d\.\d\d s", baseline)
    assert alone.startswith("start-up: Scrapy alone (one-request spider, no project) ")
    assert re.search(r"working tree \d+\.\d\d × this", alone)
