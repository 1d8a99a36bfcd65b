"""Businesses: where one sits in the three-level tree, who holds roles on it, and what
belongs to it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.models import Business, BusinessUserRole
from flowdeck.db.models.businesses import LEVEL_COLUMNS, MAX_BUSINESS_LEVEL
from flowdeck.db.repositories.base import Scope
from flowdeck.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableError,
)

PLACEMENT = ("business_level", *LEVEL_COLUMNS)


def in_subtrees(column: Any, business_ids: Any) -> Any:
    """`column` (a business id) names one of `business_ids` or a business below one.

    Ids are unique across levels, so a business's subtree is every row holding its id in
    any level column (itself included).
    """
    below = select(Business.business_id).where(
        or_(*(getattr(Business, level).in_(business_ids) for level in LEVEL_COLUMNS))
    )
    return column.in_(below)


async def in_tenant(session: AsyncSession, tenant_id: str, business_id: int) -> Business:
    """The tenant's business; another tenant's, or none, is 404 naming business_id."""
    found: Business | None = (
        await session.execute(
            select(Business).where(
                Business.business_id == business_id, Business.tenant_id == tenant_id
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"business {business_id} not found", field="business_id")
    return found


async def placed(session: AsyncSession, scope: Scope, business_id: int | None) -> None:
    """A row may be put in `business_id` (None: in no business) by the caller of `scope`:
    the business is the tenant's, and a caller whose privilege comes only from business
    roles keeps what they make inside those businesses (403 naming business_id)."""
    if business_id:
        await in_tenant(session, scope.tenant_id, business_id)
    if not scope.in_tenant and business_id not in scope.businesses:
        raise PermissionDeniedError(
            "your privilege here comes from business roles: name one of their businesses",
            field="business_id",
        )


async def fill_own_level(session: AsyncSession, business: Business) -> None:
    """A new business's own id, in its level's column (known once it is inserted)."""
    setattr(business, LEVEL_COLUMNS[business.business_level - 1], business.business_id)
    await session.flush()


async def has_children(session: AsyncSession, business: Business) -> bool:
    if business.business_level >= MAX_BUSINESS_LEVEL:
        return False
    column = getattr(Business, LEVEL_COLUMNS[business.business_level - 1])
    child = await session.execute(
        select(Business.business_id).where(
            column == business.business_id, Business.business_id != business.business_id
        )
    )
    return child.first() is not None


async def place(
    session: AsyncSession, tenant_id: str, values: dict[str, Any], row: Business | None
) -> dict[str, Any]:
    """A create's or update's level columns, checked: a level-n business names its n-1
    ancestors (root first), the parent is a business of level n-1 of the same tenant on
    that path, and the columns below its own level are 0. Its own column holds its id
    (set once the id exists, for a new business)."""
    given = {key: values[key] for key in PLACEMENT if values.get(key) is not None}
    if row is None:
        own, current = 0, {}
        wanted = {**{key: 0 for key in LEVEL_COLUMNS}, **given}
    else:
        own = row.business_id
        current = {key: getattr(row, key) for key in PLACEMENT}
        wanted = {**current, **given}
        old = LEVEL_COLUMNS[row.business_level - 1]
        if wanted["business_level"] != row.business_level and old not in given:
            wanted[old] = 0  # its own id leaves the old level's column
    level = wanted["business_level"]
    path = [wanted[column] for column in LEVEL_COLUMNS]
    for depth, column in enumerate(LEVEL_COLUMNS, start=1):
        value = path[depth - 1]
        if depth < level and not value:
            raise UnprocessableError(f"a level-{level} business names its {column}", field=column)
        if depth == level and value not in (0, own):
            raise UnprocessableError(
                f"{column} of a level-{level} business is its own id", field=column
            )
        if depth > level and value:
            raise UnprocessableError(f"a level-{level} business has no {column} (0)", field=column)
    path[level - 1] = own
    placed = {"business_level": level, **dict(zip(LEVEL_COLUMNS, path, strict=True))}
    moved = row is None or placed != current
    if row is not None and moved and await has_children(session, row):
        raise InvalidStateError(
            "move or remove the businesses below it first", field="business_level"
        )
    if level > 1 and moved:
        await _check_parent(session, tenant_id, path, level, own)
    return {**values, **placed}


async def _check_parent(
    session: AsyncSession, tenant_id: str, path: list[int], level: int, own: int
) -> None:
    column = LEVEL_COLUMNS[level - 2]
    parent_id = path[level - 2]
    parent = (
        await session.execute(
            select(Business).where(
                Business.business_id == parent_id, Business.tenant_id == tenant_id
            )
        )
    ).scalar_one_or_none()
    if parent is None or parent.business_id == own:
        raise NotFoundError(f"business {parent_id} not found", field=column)
    if parent.business_level != level - 1 or any(
        getattr(parent, LEVEL_COLUMNS[i]) != path[i] for i in range(level - 1)
    ):
        raise UnprocessableError(
            f"business {parent_id} is not a level-{level - 1} business on that path",
            field=column,
        )


async def set_roles(
    session: AsyncSession,
    tenant_id: str,
    business_id: int,
    uid: int,
    role_ids: list[str],
    by: int,
) -> list[BusinessUserRole]:
    """The user's roles on the business become exactly `role_ids`; the bindings, as stored."""
    held = select(BusinessUserRole).where(
        BusinessUserRole.business_id == business_id, BusinessUserRole.uid == uid
    )
    present = {b.role_id: b for b in (await session.execute(held)).scalars()}
    for role_id, binding in present.items():
        if role_id not in role_ids:
            await session.delete(binding)
    for role_id in dict.fromkeys(role_ids):
        if role_id not in present:
            session.add(
                BusinessUserRole(
                    tenant_id=tenant_id,
                    business_id=business_id,
                    uid=uid,
                    role_id=role_id,
                    c_uid=by,
                    m_uid=by,
                )
            )
    await session.flush()
    rows = await session.execute(held.order_by(BusinessUserRole.role_id))
    return list(rows.scalars())


async def remove_user(session: AsyncSession, business_id: int, uid: int) -> int:
    """Every role the user holds on the business, removed; how many there were."""
    result = await session.execute(
        delete(BusinessUserRole).where(
            BusinessUserRole.business_id == business_id, BusinessUserRole.uid == uid
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
