"""Migration 0005 upgrades a database that already holds scans in place, and goes back down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from scrapersky.db.engine import get_engine
from scrapersky.db.schema import SCHEMA_HEAD, alembic_config, current_revision
from tests.support.db import rows


def test_existing_rows_get_first_and_last_seen_values(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "0004")
    with get_engine(database_url).begin() as connection:
        scanned = connection.execute(
            text(
                "INSERT INTO domains (tenant_id, domain, last_scan, domain_metadata) "
                "VALUES ('t', 'old.test', '2025-05-01 10:00:00', '{\"title\": \"Old\"}') RETURNING id"
            )
        ).scalar_one()
        never = connection.execute(
            text("INSERT INTO domains (tenant_id, domain) VALUES ('t', 'new.test') RETURNING id")
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO sitemap_files (domain_id, url, status_code, fetched_at) VALUES "
                "(:d, 'http://old.test/ok.xml', 200, '2025-05-01 09:59:00'), "
                "(:d, 'http://old.test/broken.xml', 500, '2025-05-01 09:59:30')"
            ),
            {"d": scanned},
        )
        for domain_id in (scanned, never):
            connection.execute(
                text(
                    "INSERT INTO pages (domain_id, url) VALUES (:d, 'http://x.test/a'), "
                    "(:d, 'http://x.test/b')"
                ),
                {"d": domain_id},
            )
    command.upgrade(config, "head")
    assert current_revision(database_url) == SCHEMA_HEAD

    def day(value) -> str:
        return str(value)[:19]

    pages = rows(
        database_url, "select domain_id, first_seen_at, last_seen_at, removed_at from pages"
    )
    old = [p for p in pages if p["domain_id"] == scanned]
    assert [(day(p["first_seen_at"]), day(p["last_seen_at"]), p["removed_at"]) for p in old] == [
        ("2025-05-01 10:00:00", "2025-05-01 10:00:00", None)
    ] * 2
    fresh = [p for p in pages if p["domain_id"] == never]
    assert all(
        p["first_seen_at"] is not None and p["first_seen_at"] == p["last_seen_at"] for p in fresh
    )
    files = {
        f["url"]: f
        for f in rows(database_url, "select url, confirmed_at, removed_at from sitemap_files")
    }
    assert day(files["http://old.test/ok.xml"]["confirmed_at"]) == "2025-05-01 09:59:00"
    assert files["http://old.test/broken.xml"]["confirmed_at"] is None
    domains = {
        d["domain"]: d for d in rows(database_url, "select domain, metadata_at from domains")
    }
    assert day(domains["old.test"]["metadata_at"]) == "2025-05-01 10:00:00"
    assert domains["new.test"]["metadata_at"] is None

    command.downgrade(config, "0004")
    assert len(rows(database_url, "select * from pages")) == 4
    assert "first_seen_at" not in rows(database_url, "select * from pages")[0]
    command.upgrade(config, "head")
