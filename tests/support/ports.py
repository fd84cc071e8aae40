"""Loopback ports for servers that a test starts in another process, or closes and reopens.

A port taken with `bind(("127.0.0.1", 0))` and released before the server binds it is a race:
the kernel hands out the same ephemeral ports to every process, so under pytest-xdist another
worker's `bind(0)` or outgoing connection can take it in between. Ports from here come from a
block below the kernel's ephemeral range (32768 and up on Linux), which `bind(0)` and outgoing
connections never use, and each xdist worker has a block of its own, so two workers never
pick the same port. Within a process they are handed out in turn, each checked free first.
"""

from __future__ import annotations

import itertools
import os
import socket

BASE = 20000
BLOCK = 800  # ports per worker; 15 workers fit below 32768


def _worker_index() -> int:
    # PYTEST_XDIST_WORKER is gw0, gw1, …; a process outside xdist takes the last block, so a
    # bench or a `python -m` helper started beside a test run never collides with a worker.
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") else (32768 - BASE) // BLOCK - 1


_START = BASE + _worker_index() * BLOCK
_next = itertools.cycle(range(_START, _START + BLOCK))


def free_port() -> int:
    """A loopback port no other worker will hand out, free at the time of the call."""
    for _ in range(BLOCK):
        port = next(_next)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {_START}-{_START + BLOCK - 1}")
