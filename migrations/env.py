"""Alembic environment: the URL comes from `scrapy migrate` (config attribute) or DATABASE_URL."""

from alembic import context

from scrapersky.config import project_settings
from scrapersky.db.engine import get_engine
from scrapersky.db.models import Base

config = context.config
url = config.attributes.get("database_url") or project_settings().get("DATABASE_URL")


def run_migrations_offline() -> None:
    context.configure(
        url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with get_engine(url).connect() as connection:
        # render_as_batch: SQLite can only ALTER tables by copying them.
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
