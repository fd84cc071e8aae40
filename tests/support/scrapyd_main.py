"""`scrapyd` for test nodes: `python scrapyd_main.py SITE [scrapyd options]`.

Run as a script by path (tests/support/scrapyd_nodes.py), with no PYTHONPATH. SITE, a directory
holding the project installed by pip, goes first on this process's import path only, so the
node's webservices import the shipped package, as in the Docker image, and the crawls Scrapyd
starts (which inherit the environment, not this path) import the deployed egg.

Twisted ends a process stopped by SIGTERM by sending the signal to itself again with the
default handler, so exit hooks never run and coverage (`make test`) would lose everything the
node's webservices ran. This saves it first; the node is otherwise Scrapyd's own main()."""

from __future__ import annotations

import sys

# A script's own directory comes first on its path: tests/support must not shadow anything.
del sys.path[0]
sys.path.insert(0, sys.argv.pop(1))

import coverage  # noqa: E402
from scrapyd.__main__ import main  # noqa: E402
from twisted.application import app  # noqa: E402

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
