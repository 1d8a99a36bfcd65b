"""Projects, flows, flow versions and flow templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flowdeck.db.base import Base, Owned, Reach, RowScope, Timestamps, UTCDateTime, uuid_pk
from flowdeck.db.models.identity import User


def _business() -> Mapped[int | None]:
    # What belongs to a business stays when the business goes, then belonging to none.
    return mapped_column(
        Integer,
        ForeignKey("businesses.business_id", ondelete="SET NULL"),
        index=True,
        nullable=True,
    )


class _Described:
    # A mixin so that the columns come last, where migration 0014 added them.
    flow_skill: Mapped[str | None] = mapped_column(Text, nullable=True)
    icon: Mapped[str | None] = mapped_column(String(255), nullable=True)
    icon_bg_color: Mapped[str | None] = mapped_column(String(32), nullable=True)
    gradient: Mapped[str | None] = mapped_column(String(255), nullable=True)
    flow_type: Mapped[str] = mapped_column(String(32), default="", server_default="")
    business_id: Mapped[int | None] = _business()


class _InBusiness:
    # A mixin so that the column comes last, where migration 0012 added it.
    business_id: Mapped[int | None] = _business()


class Project(Owned, Timestamps, _InBusiness, Base):
    __tablename__ = "projects"
    __scope__ = RowScope.BUSINESS_TREE
    # Langflow's folder names are unique per user; here per user within a tenant.
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "name", name="uq_projects_owner_name"),
    )

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("projects.id", ondelete="CASCADE"), nullable=True
    )


class Flow(Owned, Timestamps, Base):
    __tablename__ = "flows"
    __scope__ = RowScope.BUSINESS_TREE
    __soft_delete__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        Index("ix_flows_tenant_endpoint", "tenant_id", "endpoint_name", unique=True),
    )

    id: Mapped[str] = uuid_pk()
    slug: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    icon: Mapped[str | None] = mapped_column(String(255), nullable=True)
    icon_bg_color: Mapped[str | None] = mapped_column(String(32), nullable=True)
    gradient: Mapped[str | None] = mapped_column(String(255), nullable=True)
    endpoint_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    webhook: Mapped[bool] = mapped_column(Boolean, default=False)
    access_type: Mapped[str] = mapped_column(String(16), default="PRIVATE")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_component: Mapped[bool] = mapped_column(Boolean, default=False)
    mcp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    action_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    action_description: Mapped[str | None] = mapped_column(Text, nullable=True)
    flow_type: Mapped[str] = mapped_column(String(32), default="automation")
    is_online: Mapped[bool] = mapped_column(Boolean, default=False)
    online_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deployment_status: Mapped[str] = mapped_column(String(16), default="running")
    project_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("projects.id", ondelete="SET NULL"), index=True, nullable=True
    )
    business_id: Mapped[int | None] = _business()
    org_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FlowVersion(Timestamps, Base):
    __tablename__ = "flow_versions"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("flow_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("flows.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class FlowTemplate(Owned, Timestamps, _Described, Base):
    """A flow's graph and looks, kept to start new flows from; `scope` says who sees it."""

    __tablename__ = "flow_templates"
    __scope__ = RowScope.SHARED

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default=Reach.TENANT, index=True)
    source_flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    creator: Mapped[User | None] = relationship(lazy="joined")

    @property
    def is_self(self) -> bool:
        return self.scope == Reach.PERSONAL

    @property
    def creator_name(self) -> str | None:
        return self.creator.username if self.creator is not None else None
