"""Read-only helpers for tests: rows as plain dicts, JSON columns decoded on both databases, and
waiting for running jobs to go stale."""

from __future__ import annotations

import json

from sqlalchemy import JSON, create_engine, text

from scrapersky.db.models import Base
from tests.support.waiting import wait_for

# SQLite hands JSON columns back as text to a raw query; PostgreSQL decodes JSONB itself.
JSON_COLUMNS = {
    c.name for t in Base.metadata.tables.values() for c in t.columns if isinstance(c.type, JSON)
}


def _decode(key: str, value):
    if key in JSON_COLUMNS and isinstance(value, str):
        return json.loads(value)
    return value


def rows(url: str, sql: str, **params) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                {k: _decode(k, v) for k, v in r._mapping.items()}
                for r in connection.execute(text(sql), params)
            ]
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params):
    found = rows(url, sql, **params)
    return next(iter(found[0].values())) if found else None


def wait_until_stale(url: str, stale_after: float, timeout: float = 60.0) -> None:
    """Wait until no running job has a heartbeat newer than stale_after seconds: the point from
    which the reaper (the next run, `scrapy status`, `scrapy batch --resume`) ends them."""
    from datetime import UTC, timedelta

    from sqlalchemy import func, select

    from scrapersky.db.engine import session_scope
    from scrapersky.db.jobs import now
    from scrapersky.db.models import Job

    def stale() -> bool:
        with session_scope(url) as session:
            newest = session.scalar(
                select(func.max(Job.heartbeat_at)).where(Job.status == "running")
            )
        if newest is None:
            return True
        newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
        return now() - newest > timedelta(seconds=stale_after)

    wait_for(stale, timeout=timeout, every=0.1)
