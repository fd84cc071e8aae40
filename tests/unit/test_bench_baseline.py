"""`python -m bench --baseline REF`: a ref that does not exist is one line. The baseline rows of a
whole run are checked in test_bench_smoke, on its one bench run."""

from __future__ import annotations

from bench.__main__ import main


def test_an_unknown_ref_is_one_line_and_exit_2(capsys):
    assert (
        main(["--urls", "1000", "--only", "inventory", "--baseline", "no-such-ref-anywhere"]) == 2
    )
    err = capsys.readouterr().err
    assert (
        err.startswith("error: --baseline no-such-ref-anywhere: git rev-parse")
        and err.count("\n") == 1
    )
