from __future__ import annotations

from scrapersky.cli import CommandFailed, ProjectCommand
from scrapersky.config import ConfigError
from scrapersky.db import schema
from scrapersky.db.engine import check_url


class Command(ProjectCommand):
    def syntax(self) -> str:
        return ""

    def short_desc(self) -> str:
        return "Bring the database schema up to date (Alembic migrations)"

    def execute(self, args: list[str], opts) -> None:
        url = self.database
        check_url(url)
        try:
            before, after = schema.upgrade(url)
        except ConfigError:
            raise
        except Exception as exc:  # unreachable server, bad credentials: one line, not a traceback
            raise CommandFailed(f"migration failed: {schema.first_line(exc)}") from None
        if before == after:
            print(f"database schema is current ({after})")
        else:
            print(f"database schema upgraded: {before or 'empty'} -> {after}")
