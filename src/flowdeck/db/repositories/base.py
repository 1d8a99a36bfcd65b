"""One small repository pattern for every resource: scoped by tenant and owner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.base import Base, Reach, RowScope
from flowdeck.errors import NotFoundError, PermissionDeniedError

M = TypeVar("M", bound=Base)


@dataclass(frozen=True, slots=True)
class Scope:
    """Who is asking: every query is limited to their tenant, and to what they own unless
    they see the whole tenant (its administrators)."""

    tenant_id: str
    user_id: int | None
    tenant_wide: bool = False
    # Businesses whose rows (BUSINESS_TREE models) the caller sees beside their own: where
    # their business roles grant the privilege the route declares, and those below.
    businesses: frozenset[int] = frozenset()
    # Whether the route's privilege is held in the whole tenant, not only on `businesses`:
    # a caller who holds it only through business roles creates rows inside those alone.
    in_tenant: bool = True


_OWNED = (RowScope.TENANT_OWNER, RowScope.BUSINESS_TREE)


class Repository(Generic[M]):
    """Get, list, create, update and delete rows of one model within a scope."""

    model: type[M]
    # Rows of a tenant are shared by its users unless the model is per-owner.
    per_owner: bool = True
    label: str = "item"

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def scoped(self, stmt: Select[Any]) -> Select[Any]:
        cols = self.model.__table__.c
        if self.model.__scope__ is RowScope.SHARED:
            return stmt.where(self._shared(cols))
        if self.model.__scope__ is not RowScope.GLOBAL:
            stmt = stmt.where(cols.tenant_id == self.scope.tenant_id)
        if self.by_owner:
            mine = cols.user_id == self.scope.user_id
            if self.scope.businesses and self.model.__scope__ is RowScope.BUSINESS_TREE:
                mine = or_(mine, cols.business_id.in_(self.scope.businesses))
            stmt = stmt.where(mine)
        if self.model.__soft_delete__:
            stmt = stmt.where(cols.deleted_at.is_(None))
        return stmt

    def _shared(self, cols: Any) -> Any:
        """What a SHARED model's rows `scope` sees: each row's reach decides."""
        mine = cols.user_id == self.scope.user_id
        in_business = (
            true()
            if self.scope.tenant_wide
            else or_(mine, cols.business_id.in_(sorted(self.scope.businesses)))
        )
        return or_(
            cols.scope == Reach.SYSTEM,
            and_(
                cols.tenant_id == self.scope.tenant_id,
                or_(
                    cols.scope == Reach.TENANT,
                    and_(cols.scope == Reach.BUSINESS, in_business),
                    and_(cols.scope == Reach.PERSONAL, mine),
                ),
            ),
        )

    @property
    def by_owner(self) -> bool:
        return self.owner_scoped(self.scope)

    @classmethod
    def owner_scoped(cls, scope: Scope) -> bool:
        """Whether `scope` sees only the caller's own rows of this model."""
        return cls.per_owner and cls.model.__scope__ in _OWNED and not scope.tenant_wide

    @classmethod
    def visible_row(cls, scope: Scope, row: M) -> bool:
        """Whether a row loaded elsewhere (a cache, the run store) is one `scope` may see."""
        cols = cls.model.__table__.c
        if (
            cls.model.__scope__ is not RowScope.GLOBAL
            and row.__dict__.get("tenant_id") != scope.tenant_id
        ):
            return False
        if (
            cls.owner_scoped(scope)
            and row.__dict__.get("user_id") != scope.user_id
            and not cls._business_row(scope, row.__dict__)
        ):
            return False
        return not (
            cls.model.__soft_delete__ and "deleted_at" in cols and row.__dict__.get("deleted_at")
        )

    @classmethod
    def _business_row(cls, scope: Scope, values: dict[str, Any]) -> bool:
        return (
            cls.model.__scope__ is RowScope.BUSINESS_TREE
            and values.get("business_id") in scope.businesses
        )

    @classmethod
    def scoped_template(
        cls, stmt: Select[Any], by_owner: bool, by_business: bool = False
    ) -> Select[Any]:
        """As `scoped`, with the scope as bind parameters (`scope_params`): built once, reused."""
        cols = cls.model.__table__.c
        if cls.model.__scope__ is not RowScope.GLOBAL:
            stmt = stmt.where(cols.tenant_id == bindparam("scope_tenant"))
        if by_owner:
            mine = cols.user_id == bindparam("scope_user")
            if by_business and cls.model.__scope__ is RowScope.BUSINESS_TREE:
                businesses: Any = bindparam("scope_businesses", expanding=True)
                mine = or_(mine, cols.business_id.in_(businesses))
            stmt = stmt.where(mine)
        if cls.model.__soft_delete__:
            stmt = stmt.where(cols.deleted_at.is_(None))
        return stmt

    @staticmethod
    def scope_params(scope: Scope) -> dict[str, Any]:
        params: dict[str, Any] = {"scope_tenant": scope.tenant_id, "scope_user": scope.user_id}
        if scope.businesses:  # the template was built with by_business
            params["scope_businesses"] = sorted(scope.businesses)
        return params

    async def get(self, item_id: Any) -> M:
        row = await self.find(item_id)
        if row is None:
            raise NotFoundError(f"{self.label} {item_id} not found", field=f"{self.label}_id")
        return row

    async def find(self, item_id: Any) -> M | None:
        pk = self.model.__mapper__.primary_key[0]
        result = await self.session.execute(self.scoped(select(self.model).where(pk == item_id)))
        row: M | None = result.scalar_one_or_none()
        return row

    async def list(
        self,
        *conditions: Any,
        offset: int = 0,
        limit: int | None = None,
        order_by: Sequence[Any] = (),
    ) -> list[M]:
        stmt = self.scoped(select(self.model)).where(*conditions)
        if order_by:
            stmt = stmt.order_by(*order_by)
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def count(self, *conditions: Any) -> int:
        stmt = self.scoped(select(func.count()).select_from(self.model)).where(*conditions)
        return int((await self.session.execute(stmt)).scalar_one())

    async def create(self, **values: Any) -> M:
        if self.model.__scope__ is not RowScope.GLOBAL:
            values.setdefault("tenant_id", self.scope.tenant_id)
        if self.model.__scope__ in (*_OWNED, RowScope.SHARED):
            values.setdefault("user_id", self.scope.user_id)
        row = self.model(**values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def update(self, row: M, values: dict[str, Any]) -> M:
        self.check_owner(row)
        for key, value in values.items():
            setattr(row, key, value)
        await self.session.flush()
        return row

    async def delete(self, row: M) -> None:
        self.check_owner(row)
        await self.session.delete(row)
        await self.session.flush()

    def check_owner(self, row: M) -> None:
        owner = getattr(row, "user_id", None) if self.by_owner else None
        if owner is not None and owner != self.scope.user_id:
            if self._business_row(self.scope, row.__dict__):
                return
            raise PermissionDeniedError(f"this {self.label} belongs to another user")
