"""The Alembic migrations create exactly what the models define, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from scrapersky.db.engine import get_engine
from scrapersky.db.models import Base
from scrapersky.db.schema import SCHEMA_HEAD, current_revision, head_revision


def test_migrations_match_models(database_url):
    with get_engine(database_url).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_contract_tables_and_unique_keys(database_url):
    inspector = inspect(get_engine(database_url))
    assert {"domains", "sitemap_files", "pages", "jobs", "batch_jobs"} <= set(
        inspector.get_table_names()
    )
    uniques = {
        table: {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
        for table in ("domains", "sitemap_files", "pages", "jobs", "batch_jobs")
    }
    assert ("tenant_id", "domain") in uniques["domains"]
    assert ("domain_id", "url") in uniques["sitemap_files"]
    assert ("domain_id", "url") in uniques["pages"]
    assert ("job_id",) in uniques["jobs"]
    assert ("batch_id",) in uniques["batch_jobs"]


def test_database_is_at_head(database_url):
    assert current_revision(database_url) == head_revision(database_url) is not None


def test_schema_head_constant_follows_the_migrations(database_url):
    assert head_revision(database_url) == SCHEMA_HEAD


def test_migrations_go_down_and_up_again(database_url):
    from alembic import command

    from scrapersky.db.schema import alembic_config

    config = alembic_config(database_url)
    command.downgrade(config, "base")
    assert current_revision(database_url) is None
    command.upgrade(config, "head")
    assert current_revision(database_url) == SCHEMA_HEAD
    test_migrations_match_models(database_url)


def test_deleting_a_domain_deletes_its_pages(database_url):
    from sqlalchemy import text

    with get_engine(database_url).begin() as connection:
        ids = [
            connection.execute(
                text("INSERT INTO domains (tenant_id, domain) VALUES ('t', :d) RETURNING id"),
                {"d": name},
            ).scalar_one()
            for name in ("gone.test", "kept.test")
        ]
        for domain_id in ids:
            connection.execute(
                text(
                    "INSERT INTO pages (domain_id, url) VALUES (:d, 'https://x.test/a'), "
                    "(:d, 'https://x.test/b')"
                ),
                {"d": domain_id},
            )
        connection.execute(text("DELETE FROM domains WHERE id = :d"), {"d": ids[0]})
        left = connection.execute(
            text("SELECT domain_id, count(*) FROM pages GROUP BY domain_id")
        ).all()
    assert [tuple(row) for row in left] == [(ids[1], 2)]


def test_page_urls_sort_bytewise_on_postgres(postgres_url):
    # Alembic's comparison does not look at collations: check the one the bulk merge relies on.
    from sqlalchemy import text

    with get_engine(postgres_url).connect() as connection:
        collation = connection.execute(
            text(
                "SELECT collation_name FROM information_schema.columns WHERE table_name = 'pages' AND column_name = 'url'"
            )
        ).scalar_one()
    assert collation == "C"
