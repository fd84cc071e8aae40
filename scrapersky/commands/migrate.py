from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand

from scrapersky.config import ConfigError, check_settings
from scrapersky.db import schema
from scrapersky.db.engine import check_url


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return ""

    def short_desc(self) -> str:
        return "Bring the database schema up to date (Alembic migrations)"

    def run(self, args: list[str], opts) -> None:
        url = self.settings.get("DATABASE_URL")
        try:
            check_settings(self.settings)
            check_url(url)
            before, after = schema.upgrade(url)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        except Exception as exc:  # unreachable server, bad credentials: one line, not a traceback
            print(f"error: migration failed: {schema.first_line(exc)}", file=sys.stderr)
            self.exitcode = 1
            return
        if before == after:
            print(f"database schema is current ({after})")
        else:
            print(f"database schema upgraded: {before or 'empty'} -> {after}")
