"""sitemap_files.listing: the last complete reading of a urlset, for the next rescan's diff

A rescan compares a changed urlset with the reading kept here and parses only the entries that
changed (scrapersky.sitemaps.diff). Kept gzipped; NULL when the last reading cannot serve (not
read completely, repaired, a URL listed twice, not a urlset). Existing rows start NULL: their
next rescan reads them in full and keeps the reading.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sitemap_files", sa.Column("listing", sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # Gzip already: out of line without PostgreSQL compressing it again.
        op.execute("ALTER TABLE sitemap_files ALTER COLUMN listing SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_column("sitemap_files", "listing")
