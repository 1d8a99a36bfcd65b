"""A tenant's configuration values, and its dictionary: indexes and their items."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flowdeck.db.base import Base, RowScope
from flowdeck.db.models.access import Audited


class Config(Audited, Base):
    __tablename__ = "configs"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "config_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    config_key: Mapped[str] = mapped_column(String(128))
    config_name: Mapped[str] = mapped_column(String(64))
    config_value: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class DictEntry(Audited, Base):
    """A dictionary index (parent_id 0) or an item of the index it names."""

    __tablename__ = "dictionary"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "parent_id", "config_key"),)

    config_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    config_key: Mapped[str] = mapped_column(String(128))
    config_name: Mapped[str] = mapped_column(String(64))
    config_en_name: Mapped[str] = mapped_column(String(64))
    key_order: Mapped[int] = mapped_column(Integer, default=0)
    config_value: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True, default="")
