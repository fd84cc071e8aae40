"""A command's exit without Python's final garbage collections.

As the interpreter exits it clears every module and runs full collections over every object
still alive, and the libraries a command imports (Scrapy, Twisted, SQLAlchemy) leave hundreds of
thousands: `scrapy status` took 0.28 s from its last output to its exit, `scrapy batch --wait`
0.39 s. Objects frozen first (gc.freeze) are left out of those collections:
17 ms. Nothing else changes: atexit handlers registered earlier (logging's, coverage's) still
run, and objects outside reference cycles are still freed as their modules are cleared, so
files are flushed and closed as before.
"""

from __future__ import annotations

import atexit
import gc


def skip_final_collections() -> None:
    """Freeze every object still alive when the interpreter starts to exit (once, however often
    this is called)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
