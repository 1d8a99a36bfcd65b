"""Permission modules, their privileges, roles, and the roles bound to users in a tenant.

Modules, privileges and roles are global (system ones exist from the first start); a role
binding is what a user holds in one tenant.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flowdeck.db.base import Base, RowScope, UTCDateTime, utcnow
from flowdeck.db.models.identity import Tenant, User


class Audited:
    """The seed's audit fields: who created and last changed a row, and when."""

    c_uid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    m_uid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ctime: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    utime: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PermissionModule(Audited, Base):
    __tablename__ = "permission_modules"
    __scope__ = RowScope.GLOBAL

    module_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    module_name: Mapped[str] = mapped_column(String(128))
    is_sys: Mapped[bool] = mapped_column(Boolean, default=False)


class ModulePriv(Audited, Base):
    __tablename__ = "module_privs"
    __scope__ = RowScope.GLOBAL

    module_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("permission_modules.module_id", ondelete="CASCADE"), primary_key=True
    )
    priv_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    priv_name: Mapped[str] = mapped_column(String(128))
    priv_opr_type: Mapped[str] = mapped_column(String(16), default="READ")
    is_sys_priv: Mapped[bool] = mapped_column(Boolean, default=False)


class Role(Audited, Base):
    """System roles (no tenant) are seen in every tenant; other roles belong to one."""

    __tablename__ = "roles"
    __scope__ = RowScope.GLOBAL

    role_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=True
    )
    role_name: Mapped[str] = mapped_column(String(128))
    is_sys_role: Mapped[bool] = mapped_column(Boolean, default=False)


class RolePriv(Base):
    __tablename__ = "role_privs"
    __scope__ = RowScope.GLOBAL
    __table_args__ = (
        ForeignKeyConstraint(
            ["module_id", "priv_id"],
            ["module_privs.module_id", "module_privs.priv_id"],
            name="fk_role_privs_module_privs",
            ondelete="CASCADE",
        ),
    )

    role_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("roles.role_id", ondelete="CASCADE"), primary_key=True
    )
    module_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    priv_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    c_uid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ctime: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TenantUserRole(Audited, Base):
    __tablename__ = "tenant_user_roles"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "uid", "role_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    uid: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("roles.role_id", ondelete="CASCADE"), index=True
    )

    # Loaded with the binding (one query): its reads show these names.
    tenant: Mapped[Tenant] = relationship(lazy="joined", innerjoin=True)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    role: Mapped[Role] = relationship(lazy="joined", innerjoin=True)

    @property
    def tenant_name(self) -> str:
        return self.tenant.name

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def nickname(self) -> str | None:
        return self.user.nickname

    @property
    def role_name(self) -> str:
        return self.role.role_name
