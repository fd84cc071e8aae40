"""`python -m scrapyd` for test nodes, keeping their coverage data.

Twisted ends a process stopped by SIGTERM by sending the signal to itself again with the
default handler, so exit hooks never run and coverage (`make test`) would lose everything the
node's webservices ran. This saves it first; the node is otherwise Scrapyd's own main()."""

from __future__ import annotations

import coverage
from scrapyd.__main__ import main
from twisted.application import app

_exit_with_signal = app._exitWithSignal


def _save_coverage_then_exit(sig: int) -> None:
    measuring = coverage.Coverage.current()
    if measuring is not None:
        measuring.stop()
        measuring.save()
    _exit_with_signal(sig)


if __name__ == "__main__":
    app._exitWithSignal = _save_coverage_then_exit
    main()
