"""Businesses (a tree of three levels in a tenant) and the roles bound to users on one."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flowdeck.db.base import Base, RowScope
from flowdeck.db.models.access import Audited, Role
from flowdeck.db.models.identity import User

MAX_BUSINESS_LEVEL = 3
# A business's ancestors and itself, root first: a level-2 business has its parent in
# first_business_id and its own id in second_business_id, a level-1 one its own id in the
# first. A subtree is then one equality on the column of its root's level.
LEVEL_COLUMNS = ("first_business_id", "second_business_id", "third_business_id")


def _tenant() -> Mapped[str]:
    return mapped_column(String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class Business(Audited, Base):
    __tablename__ = "businesses"
    __scope__ = RowScope.TENANT

    business_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant()
    business_name: Mapped[str] = mapped_column(String(64))
    business_level: Mapped[int] = mapped_column(Integer, default=1)
    first_business_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    second_business_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    third_business_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    is_enable: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)

    @property
    def parent_business_id(self) -> int:
        """The business above this one (0 for a first-level business)."""
        if self.business_level <= 1:
            return 0
        parent: int = getattr(self, LEVEL_COLUMNS[self.business_level - 2])
        return parent


class BusinessUserRole(Audited, Base):
    """A role a user holds on a business: its privileges, on the business's resources and
    those of the businesses below it (flowdeck.access.principal)."""

    __tablename__ = "business_user_roles"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("business_id", "uid", "role_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = _tenant()
    business_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("businesses.business_id", ondelete="CASCADE"), index=True
    )
    uid: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("roles.role_id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    role: Mapped[Role] = relationship(lazy="joined", innerjoin=True)

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def nickname(self) -> str | None:
        return self.user.nickname

    @property
    def role_name(self) -> str:
        return self.role.role_name
