"""sitemap_files.content_digest: a digest of the body last read

Many sitemap servers (generated sitemaps especially) send neither ETag nor Last-Modified, so a
rescan cannot ask whether a sitemap changed. With the digest of the body it last read, a scan
that receives the same bytes again treats the sitemap as unchanged: not parsed, not rewritten.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sitemap_files") as batch_op:
        batch_op.add_column(sa.Column("content_digest", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sitemap_files") as batch_op:
        batch_op.drop_column("content_digest")
