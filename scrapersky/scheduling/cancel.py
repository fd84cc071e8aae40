"""Stop Scrapyd runs by id, wherever they run: each node is asked which runs it has."""

from __future__ import annotations

from collections.abc import Iterable

from scrapersky.scheduling.client import ScrapydClient, ScrapydError


def stop_runs(client: ScrapydClient, run_ids: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Ask the node holding each run to cancel it (Scrapyd sends it a graceful shutdown, after which
    the run ends its jobs `cancelled`). Returns ({run id: node}, [run ids no node holds]): a run
    no node knows has already ended, or its node is gone and the reaper ends its jobs."""
    wanted = set(run_ids)
    stopped: dict[str, str] = {}
    for node in client.urls:
        if not wanted - stopped.keys():
            break
        try:
            active = client.active_runs(node)
        except ScrapydError:
            continue
        for run_id in sorted((wanted - stopped.keys()) & active):
            client.cancel(node, run_id)
            stopped[run_id] = node
    return stopped, sorted(wanted - stopped.keys())
