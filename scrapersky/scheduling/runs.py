"""Scheduling runs across Scrapyd nodes, least-loaded first, moving on when a node fails."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from scrapersky.scheduling.client import ScrapydClient, ScrapydError, new_run_id
from scrapersky.scheduling.planner import plan_runs


class NoNodeAnswered(ScrapydError):
    """Not one run could be scheduled: every node was unreachable or refused."""


@dataclass(frozen=True)
class ScheduledRun:
    node: str
    run_id: str


def schedule_runs(
    client: ScrapydClient,
    args: Mapping[str, str],
    count: int,
    *,
    priority: float = 0.0,
    run_id: Callable[[], str] = new_run_id,
) -> tuple[list[ScheduledRun], dict[str, str]]:
    """Schedule `count` runs of the spider with the same arguments.

    Returns the runs and, per node left out, why. A node that fails to schedule is dropped and
    the rest of the plan is made again over the others. Raises NoNodeAnswered if no run could
    be scheduled at all.
    """
    runs: list[ScheduledRun] = []
    if count <= 0:
        return runs, {}
    loads, skipped = client.loads()
    while len(runs) < count and loads:
        for node in plan_runs(loads, count - len(runs)):
            try:
                scheduled = client.schedule(node, args, run_id=run_id(), priority=priority)
            except ScrapydError as exc:
                skipped[node] = str(exc)
                del loads[node]
                break
            runs.append(ScheduledRun(node, scheduled))
            loads[node] += 1
    if not runs:
        reasons = "; ".join(skipped.values()) or "no node configured"
        raise NoNodeAnswered(f"no Scrapyd node answered: {reasons}")
    return runs, skipped


def live_runs(client: ScrapydClient, runs: Iterable[ScheduledRun]) -> set[str]:
    """Ids of the given runs still queued or running; a node that does not answer has none."""
    nodes = {run.node for run in runs}
    live: set[str] = set()
    for node in nodes:
        try:
            live |= client.active_runs(node)
        except ScrapydError:
            continue
    return live & {run.run_id for run in runs}
