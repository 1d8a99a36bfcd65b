"""Uploaded files: per-flow files and per-user files."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flowdeck.db.base import Base, Owned, RowScope, Timestamps, uuid_pk


class FileRecord(Owned, Timestamps, Base):
    __tablename__ = "files"
    __scope__ = RowScope.TENANT_OWNER

    id: Mapped[str] = uuid_pk()
    flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
