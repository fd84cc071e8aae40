"""pages.videos: the video:video data a sitemap lists for a page

Video sitemaps describe each video (thumbnail, title, description, content and player URLs,
duration, dates); it is kept per page as a JSON list, like images.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns in place): a batch table
# copy on SQLite would trip the trigger on domains that deletes a domain's pages (migration 0003).
def upgrade() -> None:
    op.add_column(
        "pages",
        sa.Column(
            "videos",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("pages", "videos")
