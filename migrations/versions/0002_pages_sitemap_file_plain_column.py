"""pages.sitemap_file_id: a plain column, without foreign key or index

The per-row foreign-key check and index entry cost about half of a bulk page write. Sitemap
files are only deleted together with their domain, whose ON DELETE CASCADE removes the pages
as well, and pages are looked up by domain first (the prefix of the unique index).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite keeps the key unnamed; a naming convention lets batch mode find it by its columns.
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_KEY = "fk_pages_sitemap_file_id_sitemap_files"


def upgrade() -> None:
    op.drop_index("ix_pages_sitemap_file_id", table_name="pages")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("pages", naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(SQLITE_KEY, type_="foreignkey")
        return
    for key in sa.inspect(op.get_bind()).get_foreign_keys("pages"):
        if key["constrained_columns"] == ["sitemap_file_id"]:
            op.drop_constraint(key["name"], "pages", type_="foreignkey")


def downgrade() -> None:
    name = SQLITE_KEY if op.get_bind().dialect.name == "sqlite" else "pages_sitemap_file_id_fkey"
    with op.batch_alter_table("pages", naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.create_foreign_key(
            name, "sitemap_files", ["sitemap_file_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index("ix_pages_sitemap_file_id", "pages", ["sitemap_file_id"])
