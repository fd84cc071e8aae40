"""The one backoff rule of the store pipeline, the job records and the Scrapyd client."""

import pytest

from scrapersky.retry import Backoff
from scrapersky.scheduling.client import NodeUnreachable, ScrapydClient
from tests.support.ports import free_port


def delays(backoff: Backoff, most: int = 20) -> list[float]:
    found = []
    while len(found) < most and (delay := backoff.next_delay()) is not None:
        found.append(delay)
    return found


def test_waits_double_up_to_the_cap_for_the_retries_given():
    assert delays(Backoff(0.5, cap=15.0, retries=7)) == [0.5, 1, 2, 4, 8, 15, 15]
    assert delays(Backoff(0.5, retries=3)) == [0.5, 1, 2]
    assert delays(Backoff(0.5, retries=0)) == []


def test_no_wait_may_end_past_the_deadline():
    assert delays(Backoff(0.5, cap=10.0, within=0.2)) == []
    # Time passes only while waiting, which these calls do not do.
    assert delays(Backoff(0.5, cap=10.0, within=5.0)) == [0.5, 1, 2, 4]
    assert delays(Backoff(0.5, cap=10.0, within=60.0), most=7) == [0.5, 1, 2, 4, 8, 10, 10]


def test_scrapyd_client_waits_between_its_attempts_at_a_node_that_refuses():
    node = f"http://127.0.0.1:{free_port()}"
    slept: list[float] = []
    client = ScrapydClient([node], retries=3, backoff=0.25, sleep=slept.append)
    with pytest.raises(NodeUnreachable, match="after 4 attempts"):
        client.daemon_status(node)
    assert slept == [0.25, 0.5, 1.0]
