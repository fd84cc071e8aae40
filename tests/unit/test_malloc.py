"""scrapersky.core.malloc: threads of a crawl process share a few glibc arenas."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="arenas are glibc's (mallopt, malloc_info)"
)

# Eight threads allocate at once (4 KiB blocks go to malloc, not to Python's small-object
# allocator), then glibc's own account of its heaps is counted: one <heap> per arena.
PROBE = """
import ctypes, sys, threading
from scrapersky.core.malloc import limit_arenas
print(limit_arenas() if sys.argv[1] == "limit" else None)
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    kept = [bytearray(4096) for _ in range(2000)]
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.open_memstream.restype = ctypes.c_void_p
libc.open_memstream.argtypes = (ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t))
libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
libc.fclose.argtypes = (ctypes.c_void_p,)
text, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(text), ctypes.byref(size))
libc.malloc_info(0, stream)
libc.fclose(stream)
print(ctypes.string_at(text, size.value).count(b"<heap nr="))
"""


def arenas(mode: str, **env: str) -> tuple[str, int]:
    """(what limit_arenas returned, arenas in use after eight threads allocated at once)."""
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    returned, count = done.stdout.split()
    return returned, int(count)


def test_threads_share_two_arenas_once_limited():
    assert arenas("limit") == ("True", 2)


def test_without_the_limit_the_same_threads_spread_over_more_arenas():
    # What the limit is for: the probe does reach past two arenas on its own.
    returned, count = arenas("none")
    assert returned == "None"
    assert count > 2


def test_an_operators_malloc_arena_max_wins():
    returned, count = arenas("limit", MALLOC_ARENA_MAX="3")
    assert returned == "False"
    assert 2 < count <= 3
