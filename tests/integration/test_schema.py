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


def constraint_names(url: str) -> dict[tuple[str, ...], str]:
    """The name of every primary key, unique constraint and foreign key, by what it constrains."""
    inspector = inspect(get_engine(url))
    names: dict[tuple[str, ...], str] = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        names[(table, "pk")] = inspector.get_pk_constraint(table)["name"]
        for unique in inspector.get_unique_constraints(table):
            names[(table, "uq", *unique["column_names"])] = unique["name"]
        for key in inspector.get_foreign_keys(table):
            names[(table, "fk", *key["constrained_columns"], key["referred_table"])] = key["name"]
    return names


def postgres_own_name(constraint: tuple[str, ...]) -> str:
    """What PostgreSQL names a constraint created without a name."""
    table, kind, *columns = constraint
    if kind == "pk":
        return f"{table}_pkey"
    if kind == "uq":
        return f"{table}_{'_'.join(columns)}_key"
    return f"{table}_{columns[0]}_fkey"


def convention_name(constraint: tuple[str, ...]) -> str:
    """What the models' naming convention names it."""
    table, kind, *columns = constraint
    if kind == "pk":
        return f"pk_{table}"
    if kind == "uq":
        return f"uq_{table}_{columns[0]}"
    return f"fk_{table}_{columns[0]}_{columns[-1]}"


def test_migration_0009_renames_postgres_own_constraint_names(postgres_url):
    from alembic import command

    from scrapersky.db.schema import alembic_config

    config = alembic_config(postgres_url)
    # A new database has the convention's names from 0001 on (Alembic takes it from the models),
    # except the unique constraints the models name themselves.
    current = constraint_names(postgres_url)
    named_by_convention = {c for c, name in current.items() if name == convention_name(c)}
    assert {c for c in current if c[1] != "uq"} <= named_by_convention
    assert len(named_by_convention) < len(current)  # uq_domains_tenant_domain and the like
    # Before 0009 every constraint created without a name had PostgreSQL's own name, as in a
    # database migrated by an older release.
    command.downgrade(config, "0008")
    older = constraint_names(postgres_url)
    assert older == {
        c: postgres_own_name(c) if c in named_by_convention else name for c, name in current.items()
    }
    command.upgrade(config, "head")
    assert constraint_names(postgres_url) == current
