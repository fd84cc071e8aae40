"""Pages over time, metadata only from a homepage actually read, and a history of what each scan changed

pages.first_seen_at / last_seen_at / removed_at: when a URL was first listed, when a scan last
wrote its listing, and when it stopped being listed (NULL while listed). sitemap_files gains
confirmed_at (when a scan last read it completely or found it unchanged: every page it lists was
seen then) and removed_at. domains.metadata_at: when the homepage metadata was last read.
scan_changes: one row per change a scan made (a page or sitemap added, removed or changed, a
metadata field changed), with old and new values.

Existing rows are upgraded in place: pages and sitemap files count as seen at their domain's
last scan (or their own fetch), and a domain's metadata as read at its last scan.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch_op:
        batch_op.add_column(sa.Column("first_seen_at", Timestamp, nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", Timestamp, nullable=True))
        batch_op.add_column(sa.Column("removed_at", Timestamp, nullable=True))
    with op.batch_alter_table("sitemap_files") as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", Timestamp, nullable=True))
        batch_op.add_column(sa.Column("removed_at", Timestamp, nullable=True))
    with op.batch_alter_table("domains") as batch_op:
        batch_op.add_column(sa.Column("metadata_at", Timestamp, nullable=True))
    op.create_table(
        "scan_changes",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "domain_id",
            sa.BigInteger(),
            sa.ForeignKey("domains.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "job_id", sa.BigInteger(), sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("changed_at", Timestamp, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("old", JSONType, nullable=True),
        sa.Column("new", JSONType, nullable=True),
    )
    op.create_index("ix_scan_changes_domain_changed", "scan_changes", ["domain_id", "changed_at"])
    op.create_index("ix_scan_changes_job_id", "scan_changes", ["job_id"])
    # What was stored before counts as seen when it was last read.
    op.execute(
        "UPDATE domains SET metadata_at = last_scan "
        "WHERE last_scan IS NOT NULL AND domain_metadata IS NOT NULL"
    )
    op.execute("UPDATE sitemap_files SET confirmed_at = fetched_at WHERE status_code IN (200, 304)")
    op.execute(
        "UPDATE pages SET first_seen_at = COALESCE((SELECT COALESCE(d.last_scan, d.created_at) FROM domains d "
        "WHERE d.id = pages.domain_id), CURRENT_TIMESTAMP), last_seen_at = COALESCE((SELECT "
        "COALESCE(d.last_scan, d.created_at) FROM domains d WHERE d.id = pages.domain_id), CURRENT_TIMESTAMP)"
    )


def downgrade() -> None:
    op.drop_index("ix_scan_changes_job_id", table_name="scan_changes")
    op.drop_index("ix_scan_changes_domain_changed", table_name="scan_changes")
    op.drop_table("scan_changes")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of domains would lose its trigger.
    for table, column in (
        ("domains", "metadata_at"),
        ("sitemap_files", "removed_at"),
        ("sitemap_files", "confirmed_at"),
        ("pages", "removed_at"),
        ("pages", "last_seen_at"),
        ("pages", "first_seen_at"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
