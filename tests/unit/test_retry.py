"""The one retry helper and backoff rule of the store pipeline, the job records, the Scrapyd
client and (as a schedule) webhook deliveries."""

import asyncio
import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from scrapersky.core.retry import Backoff, delay_after, retry_async, retry_call
from scrapersky.db.errors import is_transient
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


def test_webhook_schedule_is_the_same_rule_three_times_over():
    assert [delay_after(n, 10.0, factor=3, cap=3600.0) for n in range(1, 7)] == [
        10,
        30,
        90,
        270,
        810,
        2430,
    ]
    assert delay_after(7, 10.0, factor=3, cap=3600.0) == 3600


def _database_errors(*errors: Exception):
    """A call that raises each of `errors` in turn, then answers "done"; and its call count."""
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return "done"

    return call, calls


def _locked() -> OperationalError:
    return OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))


def _duplicate() -> IntegrityError:
    return IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))


def test_transient_failures_are_retried_until_the_call_succeeds():
    call, calls = _database_errors(_locked(), _locked(), _locked())
    slept: list[float] = []
    told: list[tuple[str, float]] = []
    answer = retry_call(
        call,
        is_transient=is_transient,
        backoff=Backoff(0.5, cap=1.0, retries=5),
        on_retry=lambda exc, delay: told.append((type(exc).__name__, delay)),
        sleep=slept.append,
    )
    assert (answer, len(calls)) == ("done", 4)
    assert slept == [0.5, 1.0, 1.0]
    assert told == [("OperationalError", 0.5), ("OperationalError", 1.0), ("OperationalError", 1.0)]


def test_a_refusal_is_raised_at_once_never_retried():
    call, calls = _database_errors(_duplicate())
    slept: list[float] = []
    with pytest.raises(IntegrityError):
        retry_call(call, is_transient=is_transient, backoff=Backoff(0.5), sleep=slept.append)
    assert (len(calls), slept) == (1, [])
    # Nor after a transient failure: the refusal ends it there.
    call, calls = _database_errors(_locked(), _duplicate(), _locked())
    with pytest.raises(IntegrityError):
        retry_call(call, is_transient=is_transient, backoff=Backoff(0.5), sleep=slept.append)
    assert (len(calls), slept) == (2, [0.5])


def test_the_last_transient_error_is_raised_when_the_retries_are_spent():
    call, calls = _database_errors(*[_locked() for _ in range(10)])
    slept: list[float] = []
    with pytest.raises(OperationalError, match="database is locked"):
        retry_call(
            call, is_transient=is_transient, backoff=Backoff(0.5, retries=3), sleep=slept.append
        )
    assert (len(calls), slept) == (4, [0.5, 1, 2])


def test_the_time_budget_bounds_the_waits():
    call, calls = _database_errors(*[_locked() for _ in range(10)])
    slept: list[float] = []
    with pytest.raises(OperationalError):
        retry_call(
            call, is_transient=is_transient, backoff=Backoff(0.5, within=4.0), sleep=slept.append
        )
    # Time passes only in the waits, which are not waited here: 0.5 + 1 + 2 fit in 4 s, 4 more not.
    assert (len(calls), slept) == (4, [0.5, 1, 2])


def test_the_async_form_retries_alike_and_awaits_its_waits():
    call, calls = _database_errors(_locked(), _locked())
    slept: list[float] = []

    async def attempt():
        return call()

    async def sleep(delay: float) -> None:
        slept.append(delay)

    answer = asyncio.run(
        retry_async(attempt, is_transient=is_transient, backoff=Backoff(0.5), sleep=sleep)
    )
    assert (answer, len(calls), slept) == ("done", 3, [0.5, 1])
    call, calls = _database_errors(_locked(), _duplicate())
    with pytest.raises(IntegrityError):
        asyncio.run(
            retry_async(attempt, is_transient=is_transient, backoff=Backoff(0.5), sleep=sleep)
        )
    assert (len(calls), slept) == (2, [0.5, 1, 0.5])
