"""Who may be added where: candidate users for role bindings and memberships."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.models import Role, TenantUserRole, User
from flowdeck.errors import InvalidInputError, NotFoundError
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
    rows, total = await page_of(session, stmt.order_by(User.id), skip, limit)
    users = [CandidateUser(uid=u.id, username=u.username, nickname=u.nickname) for u in rows]
    return Candidates(total_count=total, users=users)


async def subject_candidates(
    session: AsyncSession,
    key: Any,
    name: Any,
    tenant_id: str,
    exclude: Any,
    search: str | None,
    skip: int,
    limit: int,
) -> tuple[list[Any], int]:
    """Groups or orgs (`key`, `name`: their id and name columns) of the tenant not in the
    `exclude` subquery of ids, a page, and how many there are in all."""
    model = key.class_
    stmt = select(model).where(model.tenant_id == tenant_id, key.not_in(exclude))
    if search:
        stmt = stmt.where(name.ilike(f"%{search}%"))
    return await page_of(session, stmt.order_by(key), skip, limit)


async def page_of(session: AsyncSession, stmt: Any, skip: int, limit: int) -> tuple[list[Any], int]:
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = int((await session.execute(count)).scalar_one())
    rows = (await session.execute(stmt.offset(skip).limit(limit))).scalars()
    return list(rows), total


def in_acting_tenant(principal_tenant: str, values: dict[str, Any]) -> str:
    """The body's tenant_id, which must be the tenant the request acts in (its Tenant-Id)."""
    tenant_id = str(values.pop("tenant_id"))
    if tenant_id != principal_tenant:
        raise InvalidInputError(
            "tenant_id must be the tenant the request acts in (its Tenant-Id)", field="tenant_id"
        )
    return tenant_id


async def role_in_tenant(session: AsyncSession, tenant_id: str, role_id: str) -> str:
    """The role, if it is seen in the tenant (a system role or the tenant's own); else 404."""
    role = (
        await session.execute(
            select(Role.role_id).where(
                Role.role_id == role_id, or_(Role.tenant_id.is_(None), Role.tenant_id == tenant_id)
            )
        )
    ).scalar_one_or_none()
    if role is None:
        raise NotFoundError(f"role {role_id} not found", field="role_id")
    return role


async def person(session: AsyncSession, pool: Any, uid: int | None, username: str | None) -> User:
    """The user named by uid (or else username) among `pool`; 404 naming the field given."""
    if uid is None and not username:
        raise InvalidInputError("give the user's uid or username", field="uid")
    who = User.id == uid if uid is not None else User.username == username
    user = (await session.execute(select(User).where(who, pool))).scalar_one_or_none()
    if user is None:
        raise NotFoundError("no such user", field="uid" if uid is not None else "username")
    return user
