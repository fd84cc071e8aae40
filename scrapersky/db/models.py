"""The five tables of the public contract (DESIGN.md), as SQLAlchemy 2.0 typed models."""

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
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY, not BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: Timestamp,
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


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


class SitemapFile(Base):
    __tablename__ = "sitemap_files"
    __table_args__ = (UniqueConstraint("domain_id", "url", name="uq_sitemap_files_domain_url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    sitemap_type: Mapped[str | None] = mapped_column(String(16))
    discovery_method: Mapped[str | None] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sitemap_files.id", ondelete="SET NULL"))
    url_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    is_gzipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # BLAKE2b-128 of the body last read: a rescan that gets the same bytes skips the sitemap.
    content_digest: Mapped[str | None] = mapped_column(String(32))
    fetched_at: Mapped[datetime | None]


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

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    job_type: Mapped[str] = mapped_column(String(16), default="scan", server_default="scan")
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    domain: Mapped[str] = mapped_column(Text)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="SET NULL"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch_jobs.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    options: Mapped[dict[str, Any] | None]
    result_data: Mapped[dict[str, Any] | None]
    stats: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
