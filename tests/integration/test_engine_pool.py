"""Pooled PostgreSQL connections: pinged only after sitting idle (db/engine.py), and a
connection the server dropped is replaced, never a failure a caller must not retry."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from scrapersky.db import engine as db_engine
from scrapersky.db.engine import get_engine, session_scope
from scrapersky.db.errors import is_transient


def _backend_pid(url: str) -> int:
    with session_scope(url) as session:
        return int(session.execute(text("select pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    # A fresh connection outside the pool: the server ends the pooled one, as a restart would.
    with get_engine(url).pool._creator() as raw:  # type: ignore[attr-defined]
        cursor = raw.cursor()
        cursor.execute("select pg_terminate_backend(%s)", (pid,))
        raw.commit()


def _make_idle(url: str) -> None:
    """Every pooled connection looks idle for longer than PING_AFTER_IDLE."""
    pool = get_engine(url).pool
    for record in list(pool._pool.queue):  # type: ignore[attr-defined]
        record.info["idle_since"] -= db_engine.PING_AFTER_IDLE + 1


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgres_url):
    pid = _backend_pid(postgres_url)
    _terminate(postgres_url, pid)
    _make_idle(postgres_url)
    assert _backend_pid(postgres_url) != pid  # pinged, found dead, replaced: no error


def test_a_connection_dropped_while_busy_fails_as_transient_and_is_replaced(postgres_url):
    """Within the idle window no ping is sent: the statement meets the dropped connection, the
    error is one the callers retry, and the pool has already replaced the connection."""
    pid = _backend_pid(postgres_url)
    _terminate(postgres_url, pid)
    with pytest.raises(Exception) as failed:
        _backend_pid(postgres_url)
    assert is_transient(failed.value), failed.value
    assert _backend_pid(postgres_url) != pid
