"""A child process's peak memory, as the kernel counts it for that process alone."""

from __future__ import annotations

import os
import subprocess
import time


def wait_for_peak_rss(process: subprocess.Popen, timeout: float) -> int:
    """Wait for the process to exit (killing it after timeout seconds); its peak RSS in bytes.

    The figure is VmHWM, the kernel's high-water mark of the process's own memory, read until it
    exits: a high-water mark, so no peak falls between two reads. Not wait4's ru_maxrss: Linux
    carries a forking parent's resident size into the child's ru_maxrss across exec, so a crawl
    started from a large pytest process would report pytest's size."""
    deadline = time.monotonic() + timeout
    peak = 0
    while process.poll() is None:
        peak = max(peak, _high_water_mark(process.pid))
        if time.monotonic() > deadline:
            process.kill()
            break
        time.sleep(0.02)
    process.wait()
    return peak


def _high_water_mark(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # it exited between the check and the read
        pass
    return 0


def own_peak_rss() -> int:
    """This process's VmHWM in bytes (see wait_for_peak_rss for why not ru_maxrss)."""
    return _high_water_mark(os.getpid())
