"""constraint names follow the models' naming convention (scrapersky.db.models)

On PostgreSQL the primary keys, unique constraints and foreign keys that 0001-0008 created
without a name carry PostgreSQL's own names (`jobs_pkey`, `jobs_job_id_key`,
`jobs_batch_id_fkey`); the convention names them `pk_jobs`, `uq_jobs_job_id`,
`fk_jobs_batch_id_batch_jobs`. Renaming is a catalog change: no table is rewritten or locked
for long. A constraint is renamed only where it still has its old name: Alembic names the
constraints of the migrations it runs by the models' convention, so a database created (or
brought past a revision) with the convention in place already has the new names.

Index names and the constraints named explicitly already match. On SQLite these constraints
have no name at all in a database made before the convention, which Alembic's comparison with
the models accepts; SQLite cannot rename a constraint, and naming them would copy every table,
pages included, for a name nothing reads: SQLite is left as it is.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# (table, PostgreSQL's name, the convention's name)
RENAMES = (
    ("api_keys", "api_keys_pkey", "pk_api_keys"),
    ("batch_jobs", "batch_jobs_pkey", "pk_batch_jobs"),
    ("domains", "domains_pkey", "pk_domains"),
    ("jobs", "jobs_pkey", "pk_jobs"),
    ("pages", "pages_pkey", "pk_pages"),
    ("scan_changes", "scan_changes_pkey", "pk_scan_changes"),
    ("sitemap_files", "sitemap_files_pkey", "pk_sitemap_files"),
    ("webhook_deliveries", "webhook_deliveries_pkey", "pk_webhook_deliveries"),
    ("webhooks", "webhooks_pkey", "pk_webhooks"),
    ("api_keys", "api_keys_key_digest_key", "uq_api_keys_key_digest"),
    ("api_keys", "api_keys_key_id_key", "uq_api_keys_key_id"),
    ("batch_jobs", "batch_jobs_batch_id_key", "uq_batch_jobs_batch_id"),
    ("jobs", "jobs_job_id_key", "uq_jobs_job_id"),
    ("jobs", "jobs_batch_id_fkey", "fk_jobs_batch_id_batch_jobs"),
    ("jobs", "jobs_domain_id_fkey", "fk_jobs_domain_id_domains"),
    ("scan_changes", "scan_changes_domain_id_fkey", "fk_scan_changes_domain_id_domains"),
    ("scan_changes", "scan_changes_job_id_fkey", "fk_scan_changes_job_id_jobs"),
    ("sitemap_files", "sitemap_files_domain_id_fkey", "fk_sitemap_files_domain_id_domains"),
    ("sitemap_files", "sitemap_files_parent_id_fkey", "fk_sitemap_files_parent_id_sitemap_files"),
    (
        "webhook_deliveries",
        "webhook_deliveries_webhook_id_fkey",
        "fk_webhook_deliveries_webhook_id_webhooks",
    ),
)


def upgrade() -> None:
    _rename((table, old, new) for table, old, new in RENAMES)


def downgrade() -> None:
    _rename((table, new, old) for table, old, new in RENAMES)


def _rename(renames) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    present = {
        (table, name)
        for table, name in bind.execute(
            sa.text(
                "SELECT t.relname, c.conname FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE t.relnamespace = current_schema()::regnamespace"
            )
        )
    }
    for table, old, new in renames:
        if (table, old) in present:
            # A primary key's or unique constraint's index is renamed with it.
            op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {old} TO {new}")
