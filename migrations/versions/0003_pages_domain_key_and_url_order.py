"""pages.domain_id without a foreign key; pages.url compared byte by byte on PostgreSQL

The foreign-key check on pages.domain_id fires a trigger for every inserted page row: a third
of a bulk page write. Pages are written only by the store, in the transaction that makes or
finds their domain, so the check never caught anything; what the key did besides, removing a
domain's pages with the domain, a trigger on domains now does once per deleted domain.

On PostgreSQL pages.url takes the "C" collation: URLs are byte strings whose order has no
linguistic meaning, and the unique index and the bulk merge's sort no longer go through the
locale's strcoll (SQLite's default collation already compares bytes). On a large table this
migration rewrites pages and rebuilds its indexes: run it in a quiet hour.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_KEY = "fk_pages_domain_id_domains"
POSTGRES_KEY = "pages_domain_id_fkey"

POSTGRES_TRIGGER = """
CREATE FUNCTION delete_domain_pages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pages WHERE domain_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER domains_delete_pages AFTER DELETE ON domains
    FOR EACH ROW EXECUTE FUNCTION delete_domain_pages();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER domains_delete_pages AFTER DELETE ON domains
BEGIN
    DELETE FROM pages WHERE domain_id = OLD.id;
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("pages", naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(SQLITE_KEY, type_="foreignkey")
        op.execute(SQLITE_TRIGGER)
        return
    for key in sa.inspect(op.get_bind()).get_foreign_keys("pages"):
        if key["constrained_columns"] == ["domain_id"]:
            op.drop_constraint(key["name"], "pages", type_="foreignkey")
    op.alter_column("pages", "url", type_=sa.Text(collation="C"), existing_nullable=False)
    op.execute(POSTGRES_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER domains_delete_pages")
        with op.batch_alter_table("pages", naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.create_foreign_key(
                SQLITE_KEY, "domains", ["domain_id"], ["id"], ondelete="CASCADE"
            )
        return
    op.execute("DROP TRIGGER domains_delete_pages ON domains")
    op.execute("DROP FUNCTION delete_domain_pages()")
    op.alter_column("pages", "url", type_=sa.Text(), existing_nullable=False)
    op.create_foreign_key(
        POSTGRES_KEY, "pages", "domains", ["domain_id"], ["id"], ondelete="CASCADE"
    )
