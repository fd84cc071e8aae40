"""Which node gets each run: pure planning from the nodes' loads."""

from __future__ import annotations

import heapq
from collections.abc import Mapping


def run_count(nodes: int, slots: int, pending: int) -> int:
    """Runs for a batch: `slots` per node, never more than there are jobs to take."""
    return max(0, min(nodes * slots, pending))


def plan_runs(loads: Mapping[str, int], count: int) -> list[str]:
    """The node of each of `count` runs, in scheduling order.

    Each run goes to the node with the least work (its queued and running runs plus the runs
    planned so far), ties to the node listed first; so idle nodes share runs evenly and a busy
    node gets runs only once the others have caught up with it.
    """
    heap = [(load, index, node) for index, (node, load) in enumerate(loads.items())]
    heapq.heapify(heap)
    plan: list[str] = []
    while heap and len(plan) < count:
        load, index, node = heapq.heappop(heap)
        plan.append(node)
        heapq.heappush(heap, (load + 1, index, node))
    return plan
