from __future__ import annotations

from scrapy.commands import ScrapyCommand
from sqlalchemy.exc import SQLAlchemyError

from scrapersky.commands.base import ProjectCommand
from scrapersky.core.errors import Conflict, DatabaseUnavailable, ScraperSkyError
from scrapersky.db import schema
from scrapersky.db.engine import check_url


class Command(ProjectCommand, ScrapyCommand):
    def syntax(self) -> str:
        return ""

    def short_desc(self) -> str:
        return "Bring the database schema up to date (Alembic migrations)"

    def execute(self, args: list[str], opts) -> None:
        url = self.database
        check_url(url)
        try:
            before, after = schema.upgrade(url)
        except ScraperSkyError:
            raise
        except SQLAlchemyError as exc:  # unreachable server, bad credentials
            raise DatabaseUnavailable(f"migration failed: {schema.first_line(exc)}") from None
        except Exception as exc:  # Alembic's own: the database at a revision this code lacks
            raise Conflict(f"migration failed: {schema.first_line(exc)}") from None
        if before == after:
            print(f"database schema is current ({after})")
        else:
            print(f"database schema upgraded: {before or 'empty'} -> {after}")
