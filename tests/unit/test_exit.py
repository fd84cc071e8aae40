"""A command's exit skips Python's final collections, and loses nothing written."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import atexit, gc, sys
from scrapersky.core.exit import skip_final_collections

# Registered before: runs after the freeze, as logging's and coverage's handlers do.
atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0, flush=True))
unflushed = open(sys.argv[1], "w")
unflushed.write("kept")  # buffered, never flushed or closed by this script
if sys.argv[2] == "skip":
    skip_final_collections()
    skip_final_collections()
print("done", flush=True)
"""


def _exit(tmp_path, mode: str) -> tuple[str, str]:
    written = tmp_path / f"{mode}.txt"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(written), mode],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout, written.read_text()


def test_objects_alive_at_exit_are_frozen_and_files_still_flushed(tmp_path):
    assert _exit(tmp_path, "skip") == ("done\nfrozen True\n", "kept")
    assert _exit(tmp_path, "plain") == ("done\nfrozen False\n", "kept")
