"""Stored components of a tenant: groups, components with custom code, and their versions.

A component is used in flows by its `component_name`; every change of its code keeps the
code that was there as a numbered version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flowdeck.db.base import Base, RowScope, new_id
from flowdeck.db.models.access import Audited


class ComponentGroup(Audited, Base):
    __tablename__ = "component_groups"
    __scope__ = RowScope.TENANT

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    group_name: Mapped[str] = mapped_column(String(128))
    group_en_name: Mapped[str] = mapped_column(String(128))
    component_type: Mapped[str] = mapped_column(String(16), default="component")
    icon: Mapped[str | None] = mapped_column(String(128), nullable=True)
    tags: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    order_num: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    scope: Mapped[int] = mapped_column(Integer, default=1)
    business_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class CustomComponent(Audited, Base):
    __tablename__ = "components"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "component_name"),)

    component_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    component_group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("component_groups.group_id"), index=True
    )
    component_name: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    icon: Mapped[str | None] = mapped_column(String(128), nullable=True)
    tag: Mapped[str] = mapped_column(String(128), default="")
    code: Mapped[str | None] = mapped_column(Text, nullable=True)
    component_skill: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    version_note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_legacy: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    scope: Mapped[int] = mapped_column(Integer, default=1)
    business_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class ComponentVersion(Audited, Base):
    __tablename__ = "component_versions"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("component_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    component_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("components.component_id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(Text)
    version_note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
