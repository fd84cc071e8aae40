"""Read-only helpers for tests: rows as plain dicts."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def rows(url: str, sql: str, **params) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def scalar(url: str, sql: str, **params):
    found = rows(url, sql, **params)
    return next(iter(found[0].values())) if found else None
