"""Who may be added where: candidate users for role bindings and memberships."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.models import TenantUserRole, User
from flowdeck.errors import InvalidInputError
from flowdeck.schemas.common import Candidates, CandidateUser


def tenant_people(tenant_id: str) -> Any:
    """Users of a tenant: those whose default tenant it is, or who hold a role in it."""
    bound = select(TenantUserRole.uid).where(TenantUserRole.tenant_id == tenant_id)
    return or_(User.tenant_id == tenant_id, User.id.in_(bound))


async def candidates(
    session: AsyncSession,
    pool: Any,
    exclude: Any,
    search: str | None,
    skip: int,
    limit: int,
) -> Candidates:
    """Active users matching `pool` and not in the `exclude` subquery of user ids, a page."""
    stmt = select(User).where(User.is_active.is_(True), pool, User.id.not_in(exclude))
    if search:
        pattern = f"%{search}%"
        stmt = stmt.where(or_(User.username.ilike(pattern), User.nickname.ilike(pattern)))
    count = select(func.count()).select_from(stmt.subquery())
    total = int((await session.execute(count)).scalar_one())
    rows = (await session.execute(stmt.order_by(User.id).offset(skip).limit(limit))).scalars()
    users = [CandidateUser(uid=u.id, username=u.username, nickname=u.nickname) for u in rows]
    return Candidates(total_count=total, users=users)


def in_acting_tenant(principal_tenant: str, values: dict[str, Any]) -> str:
    """The body's tenant_id, which must be the tenant the request acts in (its Tenant-Id)."""
    tenant_id = str(values.pop("tenant_id"))
    if tenant_id != principal_tenant:
        raise InvalidInputError(
            "tenant_id must be the tenant the request acts in (its Tenant-Id)", field="tenant_id"
        )
    return tenant_id
