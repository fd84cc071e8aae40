"""The tables of the public contract (docs/schema.md), as SQLAlchemy 2.0 typed models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scrapersky.core.clock import now

# The states live in scrapersky.core.states; importable from here too, as before.
from scrapersky.core.states import BatchStatus as BatchStatus
from scrapersky.core.states import DeliveryStatus as DeliveryStatus
from scrapersky.core.states import DiscoveryMethod as DiscoveryMethod
from scrapersky.core.states import JobStatus as JobStatus

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, not BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)


# SQLAlchemy's documented convention: every constraint and index the models (and Alembic's
# operations, which take it from the models) create without a name gets the same
# predictable one on both databases. Names given explicitly are kept.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: Timestamp,
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class TimestampMixin:
    # Written by the one clock (scrapersky.core.clock); the server default is for rows written by hand.
    created_at: Mapped[datetime] = mapped_column(default=now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=now, server_default=func.now(), onupdate=now
    )


class Domain(TimestampMixin, Base):
    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("tenant_id", "domain", name="uq_domains_tenant_domain"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    domain: Mapped[str] = mapped_column(String(253))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(35))
    favicon_url: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None] = mapped_column(Text)
    is_wordpress: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    wordpress_version: Mapped[str | None] = mapped_column(String(32))
    has_elementor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    tech_stack: Mapped[dict[str, Any] | None]
    email_addresses: Mapped[list[Any] | None]
    phone_numbers: Mapped[list[Any] | None]
    facebook_url: Mapped[str | None] = mapped_column(Text)
    twitter_url: Mapped[str | None] = mapped_column(Text)
    linkedin_url: Mapped[str | None] = mapped_column(Text)
    instagram_url: Mapped[str | None] = mapped_column(Text)
    youtube_url: Mapped[str | None] = mapped_column(Text)
    tiktok_url: Mapped[str | None] = mapped_column(Text)
    structured_data: Mapped[dict[str, Any] | None]
    domain_metadata: Mapped[dict[str, Any] | None]
    sitemap_urls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_sitemaps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_scan: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the homepage metadata above was read: a scan whose homepage failed leaves it all as it was.
    metadata_at: Mapped[datetime | None]


# The page columns a sitemap listing owns; page fetches own status_code/title/description/fetched_at.
LISTING_COLUMNS = ("lastmod", "changefreq", "priority", "alternates", "images", "news", "videos")

# The domain columns that hold what the homepage says; domain_metadata keeps all of it.
DOMAIN_METADATA_COLUMNS = (
    "title",
    "description",
    "language",
    "favicon_url",
    "logo_url",
    "is_wordpress",
    "wordpress_version",
    "has_elementor",
    "tech_stack",
    "email_addresses",
    "phone_numbers",
    "facebook_url",
    "twitter_url",
    "linkedin_url",
    "instagram_url",
    "youtube_url",
    "tiktok_url",
    "structured_data",
)


class SitemapFile(Base):
    __tablename__ = "sitemap_files"
    __table_args__ = (UniqueConstraint("domain_id", "url", name="uq_sitemap_files_domain_url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    sitemap_type: Mapped[str | None] = mapped_column(String(16))
    discovery_method: Mapped[str | None] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sitemap_files.id", ondelete="SET NULL")
    )
    url_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    is_gzipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # BLAKE2b-128 of the body last read: a rescan that gets the same bytes skips the sitemap.
    content_digest: Mapped[str | None] = mapped_column(String(32))
    # The last complete reading of a urlset, gzipped, for the next rescan's diff
    # (scrapersky.sitemaps.diff); NULL when it cannot serve. Loaded only when asked for.
    listing: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    fetched_at: Mapped[datetime | None]
    # When a scan last read this sitemap completely, or found it unchanged: every page it lists
    # was seen listed then (see Page.last_seen_at).
    confirmed_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]  # no longer published; NULL while it is


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("domain_id", "url", name="uq_pages_domain_url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # domain_id and sitemap_file_id are plain columns (migrations 0002 and 0003): a foreign-key
    # check per inserted row cost a third of a bulk write and an index on sitemap_file_id
    # another sixth. Pages are written only together with their domain and sitemap file rows;
    # a trigger on domains (migration 0003) deletes a domain's pages with it.
    domain_id: Mapped[int] = mapped_column(BigId)
    sitemap_file_id: Mapped[int | None] = mapped_column(BigId)
    # Byte order on PostgreSQL: cheaper index and sort comparisons than the locale's.
    url: Mapped[str] = mapped_column(Text().with_variant(Text(collation="C"), "postgresql"))
    lastmod: Mapped[datetime | None]
    changefreq: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[float | None] = mapped_column(Float)
    alternates: Mapped[list[Any] | None]
    images: Mapped[list[Any] | None]
    news: Mapped[dict[str, Any] | None]
    videos: Mapped[list[Any] | None]
    status_code: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime | None]
    # When a scan last wrote this URL's listing. An unchanged listing is not rewritten (an
    # unchanged rescan writes no page rows): it is confirmed by its sitemap's confirmed_at, so a
    # listed URL was last seen at the later of the two.
    last_seen_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]  # stopped being listed; NULL while listed


class ScanChange(Base):
    """One change a scan made to a domain's inventory or metadata (scrapersky.db.changes)."""

    __tablename__ = "scan_changes"
    __table_args__ = (Index("ix_scan_changes_domain_changed", "domain_id", "changed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    domain_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("domains.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    changed_at: Mapped[datetime]
    # page_added | page_removed | page_changed | sitemap_added | sitemap_removed | sitemap_changed
    # | metadata_changed | first_scan
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(Text)  # the page or sitemap URL, or the metadata field
    old: Mapped[dict[str, Any] | None]
    new: Mapped[dict[str, Any] | None]


class BatchJob(TimestampMixin, Base):
    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    total_domains: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completed_domains: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_domains: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    options: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]


class Job(TimestampMixin, Base):
    __tablename__ = "jobs"
    # A batch's cancelled jobs, which its counters do not hold (jobs._count; migration 0011).
    __table_args__ = (
        Index(
            "ix_jobs_batch_cancelled",
            "batch_id",
            postgresql_where=text("status = 'cancelled'"),
            sqlite_where=text("status = 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    job_type: Mapped[str] = mapped_column(String(16), default="scan", server_default="scan")
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    domain: Mapped[str] = mapped_column(Text)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="SET NULL"))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batch_jobs.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(
        String(16), default="pending", server_default="pending", index=True
    )
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    options: Mapped[dict[str, Any] | None]
    result_data: Mapped[dict[str, Any] | None]
    stats: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Webhook(TimestampMixin, Base):
    """A tenant's notification endpoint: called with a signed JSON body when a job or batch ends."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class WebhookDelivery(TimestampMixin, Base):
    """One event for one webhook, and its delivery log: pending → sending → delivered | failed."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(
        String(16), default="pending", server_default="pending", index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # pending: when the next attempt is due; sending: when the sender's claim (lease) lapses.
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]


class ApiKey(Base):
    """A key for the HTTP API, bound to one tenant (or, for an operator key, to none: all tenants).
    Only a SHA-256 digest of the key is kept: keys are 256 random bits, so a slow hash adds nothing."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True)
    operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now, server_default=func.now())
    revoked_at: Mapped[datetime | None]
