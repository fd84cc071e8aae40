from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy import exporters
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from scrapersky.commands.base import ProjectCommand, print_json
from scrapersky.config import to_datetime, to_tenant
from scrapersky.core.domains import standardize_domain
from scrapersky.db.changes import FIELDS, domain_changes
from scrapersky.db.engine import session_scope
from scrapersky.exporters import FormulaSafeCsvItemExporter

# Scrapy's own exporters, picked by the output file's extension as `scrapy crawl -o` does; CSV
# with every cell made safe to open in a spreadsheet, as the crawl's feed exports are.
EXPORTERS = {
    ".csv": FormulaSafeCsvItemExporter,
    ".jsonl": exporters.JsonLinesItemExporter,
    ".jl": exporters.JsonLinesItemExporter,
    ".json": exporters.JsonItemExporter,
}


class Command(ProjectCommand, ScrapyCommand):
    def syntax(self) -> str:
        return "DOMAIN [--since DATE | --scan JOB] [--tenant-id UUID] [--json | -o FILE]"

    def short_desc(self) -> str:
        return "Show what scans changed about a domain: pages, sitemaps and metadata"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--since", default=None, help="changes recorded at or after this ISO date/time (UTC)"
        )
        parser.add_argument(
            "--scan", default=None, help="changes of the scans after this one (any job id)"
        )
        parser.add_argument(
            "--tenant-id",
            default=None,
            help="the domain's tenant (default SCRAPERSKY_DEFAULT_TENANT)",
        )
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument(
            "-o",
            "--output",
            default=None,
            help="write one line per change to FILE (.csv, .jsonl/.jl or .json), like a feed export",
        )

    def execute(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one domain")
        if opts.since and opts.scan:
            raise UsageError("give --since or --scan, not both")
        if opts.output and Path(opts.output).suffix not in EXPORTERS:
            raise UsageError(f"-o: the file name must end in one of {', '.join(EXPORTERS)}")
        tenant = to_tenant(opts.tenant_id or self.settings.get("SCRAPERSKY_DEFAULT_TENANT"))
        since = to_datetime(opts.since, "--since") if opts.since else None
        domain = standardize_domain(args[0])
        with session_scope(self.ready_database()) as session:
            found = domain_changes(session, tenant, domain, since=since, scan=opts.scan)
        if opts.output:
            _export(found, Path(opts.output))
        elif opts.json:
            print_json(found)
        else:
            _show(found)


def _export(found: dict[str, Any], path: Path) -> None:
    with path.open("wb") as out:
        exporter = EXPORTERS[path.suffix](out, fields_to_export=["domain", *FIELDS])
        exporter.start_exporting()
        for change in found["changes"]:
            # Nested values stay JSON text in CSV, like the crawl's own feed exports.
            row = {"domain": found["domain"], **change}
            if path.suffix == ".csv":
                row = {
                    k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()
                }
            exporter.export_item(row)
        exporter.finish_exporting()


def _show(found: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{found['domain']}: {len(found['changes'])} changes "
        f"({found['sitemap_urls']} URLs listed, last scan {found['last_scan'] or 'never'})"
    )
    for column in ("changed at", "scan", "kind", "subject", "old", "new"):
        table.add_column(column, overflow="fold")
    for change in found["changes"]:
        table.add_row(
            change["changed_at"][:19],
            (change["job_id"] or "")[:8],
            change["kind"],
            change["subject"],
            _cell(change["old"]),
            _cell(change["new"]),
        )
    Console(width=200).print(table)


def _cell(value: Any) -> str:
    return "" if value is None else json.dumps(value, default=str, ensure_ascii=False)[:120]
