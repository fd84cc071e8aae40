"""What every project command shares: failures are one line on stderr starting `error: ` and an
exit code, the one its class in scrapersky.core.errors gives (2 bad input, 3 not found, 5 database
unavailable, 6 no Scrapyd node, ...; docs/errors.md). An SQLAlchemy error is the database being
unavailable; any other, unexpected, error exits 1.

ProjectCommand is a mixin, `class Command(ProjectCommand, ScrapyCommand)`, not a ScrapyCommand
itself: Scrapy takes every ScrapyCommand subclass defined in a module of COMMANDS_MODULE for a
command named after its module, and this one would be listed as `scrapy base`."""

from __future__ import annotations

import json
import sys
from datetime import date, time
from typing import Any

from scrapy.exceptions import UsageError
from sqlalchemy.exc import SQLAlchemyError

from scrapersky.config import check_settings
from scrapersky.core.errors import DatabaseUnavailable, ScraperSkyError
from scrapersky.core.exit import skip_final_collections
from scrapersky.db.schema import ensure_schema, first_line
from scrapersky.scheduling.client import ScrapydClient

# `scrapy batch` and the other node commands use it when neither --scrapyd nor SCRAPYD_URLS names one.
LOCAL_NODE = "http://127.0.0.1:6800"


class ProjectCommand:
    """A command over the database: settings checked and schema current before `execute` runs,
    and every failure one line and an exit code. Comes before ScrapyCommand in the bases, so its
    attributes and `run` are the ones taken."""

    settings: Any
    exitcode: int

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def run(self, args: list[str], opts) -> None:
        skip_final_collections()
        try:
            check_settings(self.settings)
            self.execute(args, opts)
        except ScraperSkyError as exc:
            self.fail(str(exc), exc.exit_code)
        except UsageError:
            raise  # Scrapy prints the command's usage and exits 2
        except SQLAlchemyError as exc:
            self.fail(first_line(exc), DatabaseUnavailable.exit_code)
        except Exception as exc:  # one line, never a traceback
            self.fail(first_line(exc), 1)

    @property
    def database(self) -> str:
        return self.settings.get("DATABASE_URL")

    def ready_database(self) -> str:
        """DATABASE_URL once its schema is current (SQLite migrates itself)."""
        ensure_schema(self.database)
        return self.database

    def add_scrapyd_option(self, parser) -> None:
        parser.add_argument(
            "--scrapyd",
            action="append",
            default=[],
            metavar="URL",
            help="Scrapyd node (repeatable); default: SCRAPYD_URLS",
        )

    def scrapyd_client(self, opts, **options) -> ScrapydClient:
        """A client of the --scrapyd nodes, or else of SCRAPYD_URLS, with the settings' login (or
        the password file of this machine's node, for loopback nodes)."""
        return ScrapydClient.from_settings(
            opts.scrapyd or self.settings.get("SCRAPYD_URLS") or LOCAL_NODE,
            self.settings,
            **options,
        )

    def execute(self, args: list[str], opts) -> None:
        raise NotImplementedError

    def fail(self, message: str, code: int) -> None:
        print(f"error: {message}", file=sys.stderr)
        self.exitcode = code


def print_json(value: Any) -> None:
    """The `--json` output of every command, one way: indented by two spaces, ASCII only (other
    characters as JSON escapes, whatever the terminal's encoding), datetimes and dates in ISO 8601.
    Any other value JSON has no form for is a bug: TypeError, never a guess through str()."""
    print(json.dumps(value, indent=2, ensure_ascii=True, default=_iso_8601))


def _iso_8601(value: object) -> str:
    if isinstance(value, (date, time)):  # datetime is a date
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
