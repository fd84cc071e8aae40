"""Every command's `--json` is written one way (scrapersky.commands.base.print_json): each output
is one JSON document, indented by two spaces, ASCII only, with its datetimes in ISO 8601.

All in this process (tests.support.in_process) over a real SQLite database holding a batch, a
domain with a recorded change, a key and a webhook; no Scrapyd node listens at the address the
node commands are given, so `batch` and `retry` print their outcome with the error."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from scrapersky.db import jobs, keys
from scrapersky.db.engine import in_transaction, session_scope
from scrapersky.db.models import Domain, ScanChange
from tests.conftest import scrapy_env
from tests.support.in_process import run_command
from tests.support.ports import free_port

TENANT = "7e57ed00-0000-4000-8000-000000000001"
ISO_8601 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?$")
DATETIME_KEYS = {"created_at", "updated_at", "last_scan", "changed_at", "next", "start_time"}


def test_every_json_output_is_written_the_same_way(sqlite_url, tmp_path):
    env = scrapy_env(sqlite_url, SCRAPERSKY_DEFAULT_TENANT=TENANT)
    dead = f"http://127.0.0.1:{free_port()}"
    listing = tmp_path / "domains.txt"
    listing.write_text("one.test\ntwo.test\n")
    in_transaction(sqlite_url, keys.create_key, TENANT, "café")  # a name JSON must escape as ASCII
    with session_scope(sqlite_url) as session:
        domain = Domain(tenant_id=TENANT, domain="one.test", last_scan=datetime.now(UTC))
        session.add(domain)
        session.flush()
        session.add(
            ScanChange(
                domain_id=domain.id,
                changed_at=datetime.now(UTC),
                kind="metadata_changed",
                subject="title",
                old={"value": "Ancien"},
                new={"value": "Nouveau — ☃"},
            )
        )
    batch = in_transaction(sqlite_url, jobs.create_batch, TENANT, ["three.test"], {})

    def run(*argv: str, code: int = 0) -> object:
        result = run_command(*argv, env=env)
        assert result.returncode == code, (argv, result.stderr[-2000:])
        return parsed(argv, result.stdout)

    outputs = {
        "batch": run("batch", str(listing), "--scrapyd", dead, "--json", code=6),
        "retry": run("retry", batch.batch_id, "--scrapyd", dead, "--json", code=6),
        "cancel": run("cancel", batch.batch_id, "--scrapyd", dead, "--json"),
        "changes": run("changes", "one.test", "--json"),
        "keys list": run("keys", "list", "--json"),
        "status": run("status", "--json"),
        "status ID": run("status", batch.batch_id, "--json"),
        "webhooks add": run(
            "webhooks", "add", "https://hooks.example/in", "--tenant-id", TENANT, "--json"
        ),
        "webhooks list": run("webhooks", "list", "--json"),
        "webhooks deliver": run("webhooks", "deliver", "--json"),
        "webhooks log": run("webhooks", "log", "--json"),
        "webhooks remove": run("webhooks", "remove", "1", "--json"),
    }
    # The documented shapes, and datetimes in ISO 8601 wherever they are.
    assert outputs["batch"]["error"].startswith("no Scrapyd node answered")
    assert outputs["batch"]["batch"]["total_domains"] == 2
    assert outputs["cancel"]["kind"] == "batch" and outputs["cancel"]["cancelled_pending"] == 1
    assert outputs["changes"]["changes"][0]["new"] == {"value": "Nouveau — ☃"}
    assert [key["name"] for key in outputs["keys list"]] == ["café"]
    assert {job["domain"] for job in outputs["status"]["jobs"]} >= {"one.test", "three.test"}
    assert [hook["url"] for hook in outputs["webhooks list"]] == ["https://hooks.example/in"]
    dates = list(datetimes(outputs))
    assert len(dates) > 10 and all(ISO_8601.match(value) for value in dates), dates


def parsed(argv: tuple[str, ...], stdout: str) -> object:
    """stdout as one JSON document, checked to be written as print_json writes it."""
    value = json.loads(stdout)
    assert stdout == json.dumps(value, indent=2, ensure_ascii=True) + "\n", argv
    return value


def datetimes(value: object):
    if isinstance(value, dict):
        for name, item in value.items():
            if name in DATETIME_KEYS and isinstance(item, str):
                yield item
            else:
                yield from datetimes(item)
    elif isinstance(value, list):
        for item in value:
            yield from datetimes(item)
