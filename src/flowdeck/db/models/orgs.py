"""Organisations (a tree of up to six levels) and user groups, their members, and the roles
bound to a whole group or org in a tenant."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flowdeck.db.base import Base, RowScope
from flowdeck.db.models.access import Audited, Role
from flowdeck.db.models.identity import Tenant, User

MAX_ORG_LEVEL = 6
LEVEL_COLUMNS = (
    "one_org_id",
    "two_org_id",
    "three_org_id",
    "four_org_id",
    "five_org_id",
    "six_org_id",
)


def _tenant() -> Mapped[str]:
    return mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class UserGroup(Audited, Base):
    __tablename__ = "user_groups"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "group_name"),)

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant()
    group_name: Mapped[str] = mapped_column(String(64))
    is_enable: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class Org(Audited, Base):
    """An org; `one_org_id` … `six_org_id` hold its ancestors and itself, root first."""

    __tablename__ = "orgs"
    __scope__ = RowScope.TENANT

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant()
    org_name: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    org_level: Mapped[int] = mapped_column(Integer, default=1)
    one_org_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    two_org_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    three_org_id: Mapped[int] = mapped_column(Integer, default=0)
    four_org_id: Mapped[int] = mapped_column(Integer, default=0)
    five_org_id: Mapped[int] = mapped_column(Integer, default=0)
    six_org_id: Mapped[int] = mapped_column(Integer, default=0)
    parent_org_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    is_enable: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class _Member(Audited):
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant()
    uid: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )

    @property
    def username(self) -> str:
        return self.user.username  # type: ignore[attr-defined, no-any-return]

    @property
    def nickname(self) -> str | None:
        return self.user.nickname  # type: ignore[attr-defined, no-any-return]


class _Leading:
    # A mixin so that the column comes last, where migration 0012 added it.
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)


class UserGroupMember(_Member, _Leading, Base):
    __tablename__ = "user_group_members"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("group_id", "uid"),)

    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("user_groups.group_id", ondelete="CASCADE"), index=True
    )
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    group: Mapped[UserGroup] = relationship(lazy="joined", innerjoin=True)

    @property
    def group_name(self) -> str:
        return self.group.group_name


class OrgMember(_Member, Base):
    __tablename__ = "org_members"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("org_id", "uid"),)

    org_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("orgs.org_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[str] = mapped_column(String(64))
    job: Mapped[str] = mapped_column(String(64))
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    org: Mapped[Org] = relationship(lazy="joined", innerjoin=True)

    @property
    def org_name(self) -> str:
        return self.org.org_name

    @property
    def org_level(self) -> int:
        return self.org.org_level


class _Binding(Audited):
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant()
    role_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("roles.role_id", ondelete="CASCADE"), index=True
    )

    @property
    def tenant_name(self) -> str:
        return self.tenant.name  # type: ignore[attr-defined, no-any-return]

    @property
    def role_name(self) -> str:
        return self.role.role_name  # type: ignore[attr-defined, no-any-return]


class TenantGroupRole(_Binding, Base):
    """A role every enabled member of the group holds in the tenant."""

    __tablename__ = "tenant_group_roles"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "group_id", "role_id"),)

    group_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("user_groups.group_id", ondelete="CASCADE"), index=True
    )
    tenant: Mapped[Tenant] = relationship(lazy="joined", innerjoin=True)
    role: Mapped[Role] = relationship(lazy="joined", innerjoin=True)
    group: Mapped[UserGroup] = relationship(lazy="joined", innerjoin=True)

    @property
    def group_name(self) -> str:
        return self.group.group_name


class TenantOrgRole(_Binding, Base):
    """A role the members of the org, and of every org below it, hold in the tenant."""

    __tablename__ = "tenant_org_roles"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "org_id", "role_id"),)

    org_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("orgs.org_id", ondelete="CASCADE"), index=True
    )
    tenant: Mapped[Tenant] = relationship(lazy="joined", innerjoin=True)
    role: Mapped[Role] = relationship(lazy="joined", innerjoin=True)
    org: Mapped[Org] = relationship(lazy="joined", innerjoin=True)

    @property
    def org_name(self) -> str:
        return self.org.org_name
