"""One clock (scrapersky/clock.py): the timestamps the lifecycle compares with the application's
clock are written by that same clock, never by the database's `now()`."""

from __future__ import annotations

from sqlalchemy import inspect

from scrapersky.core import clock
from scrapersky.db.models import Base


def _python_default(column, which: str):
    default = getattr(column, which)
    return None if default is None or not default.is_callable else default.arg.__wrapped__


def test_every_created_and_updated_at_is_written_by_the_one_clock():
    stamped = [
        column
        for mapper in Base.registry.mappers
        for column in inspect(mapper.class_).columns
        if column.name in ("created_at", "updated_at")
    ]
    assert {column.table.name for column in stamped} >= {"jobs", "batch_jobs", "api_keys"}
    for column in stamped:
        assert _python_default(column, "default") is clock.now, column
        if column.name == "updated_at":
            assert _python_default(column, "onupdate") is clock.now, column
