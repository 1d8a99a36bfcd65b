"""Tenants, users and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flowdeck.db.base import Base, RowScope, Timestamps, UTCDateTime, uuid_pk


class Tenant(Timestamps, Base):
    __tablename__ = "tenants"
    __scope__ = RowScope.GLOBAL

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200), unique=True)
    code: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    description: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The system tenant holds the platform's superusers, who administer every tenant.
    # sort_order: after the timestamps, where the migration that added them put them.
    is_sys: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0", sort_order=1)
    c_uid: Mapped[int | None] = mapped_column(Integer, nullable=True, sort_order=1)
    m_uid: Mapped[int | None] = mapped_column(Integer, nullable=True, sort_order=1)


class User(Timestamps, Base):
    __tablename__ = "users"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str] = mapped_column(String(150))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    profile_image: Mapped[str | None] = mapped_column(String(500), nullable=True)
    nickname: Mapped[str | None] = mapped_column(String(150), nullable=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    optins: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # In every JWT issued to the user; raising it (logout, password change) revokes them all.
    token_version: Mapped[int] = mapped_column(
        Integer,
        default=0,
        server_default="0",
        sort_order=1,  # last, as the migration adds it
    )


class ApiKey(Timestamps, Base):
    __tablename__ = "api_keys"
    __scope__ = RowScope.TENANT_OWNER

    id: Mapped[str] = uuid_pk()
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # The tenant the key was created in: it acts for its user there.
    tenant_id: Mapped[str | None] = mapped_column(
        String(36),
        ForeignKey("tenants.id", ondelete="CASCADE"),
        index=True,
        nullable=True,
        sort_order=1,
    )
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    key_preview: Mapped[str] = mapped_column(String(32))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    total_uses: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
