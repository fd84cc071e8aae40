"""Schema version checks and Alembic upgrades."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from scrapersky.core import messages
from scrapersky.core.errors import ConfigError, DatabaseUnavailable, SchemaBehind
from scrapersky.core.redact import redact
from scrapersky.db.engine import get_engine

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in migrations/versions, checked before every run without reading the
# scripts; a test keeps the two in step.
SCHEMA_HEAD = "0011"


def migrations_directory() -> Path:
    """Alembic's script directory: the installed package's own (`scrapersky.migrations`, which
    setup.py maps from the checkout's top-level migrations/), else the top-level migrations/ of
    the checkout the package is imported from (PYTHONPATH, an editable install). A checkout is
    where pyproject.toml sits beside the package, so an installed copy missing its migrations
    never runs another project's top-level migrations/ in site-packages."""
    package = Path(__file__).resolve().parents[1]
    installed, checkout = package / "migrations", package.parent / "migrations"
    if (installed / "env.py").is_file():
        return installed
    if (checkout / "env.py").is_file() and (package.parent / "pyproject.toml").is_file():
        return checkout
    raise ConfigError(f"migrations directory not found (looked in {installed} and {checkout})")


def alembic_config(url: str) -> Config:
    # Alembic (and Mako, Pygments behind it) load only when migrating, not for every run's check.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    config.attributes["database_url"] = url
    return config


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(url: str) -> str | None:
    with get_engine(url).connect() as connection:
        # What Alembic's MigrationContext.get_current_revision reads, without loading Alembic.
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("select version_num from alembic_version")).scalar()


def upgrade(url: str) -> tuple[str | None, str | None]:
    """Bring the schema to head; returns (before, after) revisions."""
    before = current_revision(url)
    from alembic import command

    command.upgrade(alembic_config(url), "head")
    return before, current_revision(url)


def ensure_schema(url: str) -> None:
    """Make sure the schema is current before a run uses the database.

    SQLite databases migrate themselves so the first crawl just works; PostgreSQL is shared
    by many nodes and is migrated on purpose with `scrapy migrate`.
    """
    try:
        current = current_revision(url)
    except OperationalError as exc:
        raise DatabaseUnavailable(f"database unreachable: {first_line(exc)}") from None
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"database error: {first_line(exc)}") from None
    if current == SCHEMA_HEAD:
        return
    if url.startswith("sqlite"):
        upgrade(url)
        return
    raise SchemaBehind(
        f"database schema is at {current or 'nothing'}, expected {SCHEMA_HEAD}: run `scrapy migrate`"
    )


def first_line(exc: Exception) -> str:
    """An error's first line, short and with any password in a URL replaced."""
    return messages.first_line(redact(str(getattr(exc, "orig", None) or exc))) or type(exc).__name__
