"""Databases for tests and benchmarks: whether a PostgreSQL server answers, and a new database on
it for each use, dropped afterwards. SQLite needs nothing: a file in a temporary directory."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "SCRAPERSKY_TEST_POSTGRES", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


@functools.cache
def postgres_problem() -> str | None:
    """Why no PostgreSQL server can be used, or None when one answers."""
    try:
        engine = create_engine(
            PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: no server to use
        return f"PostgreSQL unreachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"


def create_postgres_database() -> str:
    name = f"scrapersky_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str) -> None:
    from scrapersky.db.engine import get_engine

    get_engine(url).dispose()
    name = url.rsplit("/", 1)[1]
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@contextmanager
def fresh_postgres(migrate: bool = True) -> Iterator[str]:
    """A new PostgreSQL database (migrated by this tree unless told not to), dropped afterwards;
    RuntimeError when no server answers (tests turn that into a skip or a failure first)."""
    problem = postgres_problem()
    if problem:
        raise RuntimeError(problem)
    url = create_postgres_database()
    try:
        if migrate:
            from scrapersky.db.schema import upgrade

            upgrade(url)
        yield url
    finally:
        drop_postgres_database(url)
