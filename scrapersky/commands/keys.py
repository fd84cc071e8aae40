from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from scrapersky.commands.base import ProjectCommand, print_json
from scrapersky.config import ConfigError, to_tenant
from scrapersky.core.errors import NotFound
from scrapersky.core.messages import excerpt
from scrapersky.db import keys
from scrapersky.db.engine import session_scope
from scrapersky.db.views import row_view

KEY_FIELDS = ("id", "key_id", "name", "tenant_id", "operator", "created_at", "revoked_at")


class Command(ProjectCommand, ScrapyCommand):
    def syntax(self) -> str:
        return "create --tenant-id UUID [--name N] | create --operator [--name N] | list [--json] | revoke KEY_ID"

    def short_desc(self) -> str:
        return "Create, list and revoke HTTP API keys (a new key is printed once)"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--tenant-id", default=None, help="the tenant a new key reads and writes"
        )
        parser.add_argument("--operator", action="store_true", help="a new key for every tenant")
        parser.add_argument("--name", default=None, help="a label for the new key")
        parser.add_argument("--json", action="store_true", help="machine-readable list")

    def execute(self, args: list[str], opts) -> None:
        if not args or args[0] not in ("create", "list", "revoke"):
            raise UsageError("give create, list or revoke")
        action, rest = args[0], args[1:]
        if (action == "revoke") != bool(rest) or len(rest) > 1:
            raise UsageError("revoke takes one KEY_ID; create and list take none")
        getattr(self, f"_{action}")(self.ready_database(), opts, *rest)

    def _create(self, url: str, opts) -> None:
        if opts.operator == bool(opts.tenant_id):
            raise ConfigError("give exactly one of --tenant-id UUID or --operator")
        tenant = None if opts.operator else to_tenant(opts.tenant_id)
        with session_scope(url) as session:
            row, key = keys.create_key(session, tenant, opts.name)
        print(key)
        print(
            f"key {row.key_id} for {'every tenant (operator)' if tenant is None else 'tenant ' + tenant}; "
            "the key is shown only now",
            file=sys.stderr,
        )

    def _list(self, url: str, opts) -> None:
        with session_scope(url) as session:
            rows = [row_view(row, KEY_FIELDS) for row in keys.list_keys(session)]
        if opts.json:
            print_json(rows)
            return
        for row in rows:
            scope = "operator" if row["operator"] else row["tenant_id"]
            state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
            print(f"{row['key_id']}  {scope}  {state}  {row['name'] or ''}".rstrip())

    def _revoke(self, url: str, opts, ident: str) -> None:
        with session_scope(url) as session:
            row = keys.revoke_key(session, ident)
        if row is None:
            raise NotFound(f"no key with id {excerpt(ident)!r}")
        print(f"key {row.key_id} revoked")
