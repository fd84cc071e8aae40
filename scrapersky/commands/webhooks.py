from __future__ import annotations

from datetime import datetime

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from scrapersky.commands.base import ProjectCommand, print_json
from scrapersky.config import ConfigError, to_int, to_tenant
from scrapersky.core.errors import NotFound
from scrapersky.db import webhooks as rows
from scrapersky.db.engine import session_scope
from scrapersky.extensions.webhooks import Sending, deliver_due
from scrapersky.metadata.urls import MAX_URL_LENGTH

ACTIONS = ("add", "list", "remove", "deliver", "log")


class Command(ProjectCommand, ScrapyCommand):
    def syntax(self) -> str:
        return (
            "add URL --tenant-id UUID [--secret S] | list | remove ID | deliver | log [--limit N]"
        )

    def short_desc(self) -> str:
        return "Manage webhooks called when a job or batch ends, send due deliveries, show the delivery log"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--tenant-id", default=None, help="the tenant (required for add)")
        parser.add_argument(
            "--secret", default=None, help="signing secret (default: a new random one)"
        )
        parser.add_argument("--limit", default="50", help="log entries shown")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def execute(self, args: list[str], opts) -> None:
        if not args or args[0] not in ACTIONS:
            raise UsageError(f"give an action: {', '.join(ACTIONS)}")
        action, rest = args[0], args[1:]
        if len(rest) != (1 if action in ("add", "remove") else 0):
            raise UsageError(f"usage: scrapy webhooks {self.syntax()}")
        tenant = to_tenant(opts.tenant_id) if opts.tenant_id else None
        answer = getattr(self, f"_{action}")(self.ready_database(), rest, tenant, opts)
        message = answer.pop("message") if isinstance(answer, dict) else None
        if opts.json:
            print_json(answer)
        elif message is None:
            _table(answer)
        else:
            print(message)

    def _add(self, url: str, rest: list[str], tenant: str | None, opts) -> dict:
        if tenant is None:
            raise ConfigError("--tenant-id is required to add a webhook")
        endpoint = rest[0].strip()
        if (
            not endpoint.startswith(("http://", "https://"))
            or len(endpoint) > MAX_URL_LENGTH
            or not endpoint.isascii()
            or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in endpoint)
        ):
            raise ConfigError(f"the webhook URL must be an http(s) URL, got {endpoint[:100]!r}")
        if endpoint.startswith("http://") and not self._plain_http_possible():
            raise ConfigError(
                "the webhook URL must be https (plain http only to SCRAPERSKY_ALLOWED_NETWORKS, "
                "or with SCRAPERSKY_WEBHOOK_ALLOW_HTTP=true for tests and development)"
            )
        with session_scope(url) as session:
            hook = rows.add(session, tenant, endpoint, opts.secret)
        return {
            "id": hook.id,
            "tenant_id": hook.tenant_id,
            "url": hook.url,
            "secret": hook.secret,
            "message": f"webhook {hook.id} added; its signing secret (shown once): {hook.secret}",
        }

    def _plain_http_possible(self) -> bool:
        # Delivery decides per address; here, only whether any plain-http endpoint could be called.
        return self.settings.getbool("SCRAPERSKY_WEBHOOK_ALLOW_HTTP") or bool(
            self.settings.get("SCRAPERSKY_ALLOWED_NETWORKS")
        )

    def _list(self, url: str, rest: list[str], tenant: str | None, opts) -> list[dict]:
        with session_scope(url) as session:
            hooks = rows.listed(session, tenant)
        return [
            {"id": h.id, "tenant_id": h.tenant_id, "url": h.url, "created_at": h.created_at}
            for h in hooks
        ]

    def _remove(self, url: str, rest: list[str], tenant: str | None, opts) -> dict:
        hook_id = to_int(rest[0], "webhook id", minimum=1)
        with session_scope(url) as session:
            removed = rows.remove(session, hook_id, tenant)
        if not removed:
            raise NotFound(f"no webhook with id {rest[0]!r}")
        return {"id": hook_id, "message": f"webhook {hook_id} removed"}

    def _deliver(self, url: str, rest: list[str], tenant: str | None, opts) -> dict:
        counts = deliver_due(url, Sending.from_settings(self.settings))
        return {**counts, "message": ", ".join(f"{n} {state}" for state, n in counts.items())}

    def _log(self, url: str, rest: list[str], tenant: str | None, opts) -> list[dict]:
        limit = to_int(opts.limit, "--limit", minimum=1)
        with session_scope(url) as session:
            logged = rows.log(session, tenant, limit)
        return [
            {
                "id": d.id,
                "webhook": h.id,
                "event": d.event,
                "status": d.status,
                "attempts": d.attempts,
                "code": d.last_status_code,
                "error": d.last_error,
                "next": d.next_attempt_at,
                "delivered": d.delivered_at,
            }
            for d, h in logged
        ]


def _table(records: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for name in records[0].keys() if records else ("id",):
        table.add_column(name)
    for record in records:
        table.add_row(*(_cell(value) for value in record.values()))
    Console().print(table)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # to the second: the table is for reading
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)
