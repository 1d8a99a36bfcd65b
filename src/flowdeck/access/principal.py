"""Who is acting, in which tenant, holding which privileges: computed from the role bindings.

A principal is cached per (user, tenant) for a few seconds; any change to roles, role
privileges or bindings clears the cache at once in this process and, in distributed mode,
in every other process (a Redis pub/sub message), so a revocation holds from the next request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import bindparam, or_, select, union
from sqlalchemy.orm import aliased

from flowdeck.access.catalog import ALL_PRIVILEGES, TENANT_WIDE_ROLES
from flowdeck.db.database import Database
from flowdeck.db.models import (
    Business,
    BusinessUserRole,
    Org,
    OrgMember,
    RolePriv,
    Tenant,
    TenantGroupRole,
    TenantOrgRole,
    TenantUserRole,
    User,
    UserGroup,
    UserGroupMember,
)
from flowdeck.db.models.businesses import LEVEL_COLUMNS as BUSINESS_LEVELS
from flowdeck.db.models.orgs import LEVEL_COLUMNS
from flowdeck.db.repositories.base import Scope
from flowdeck.errors import NotFoundError

log = logging.getLogger("flowdeck.access")

TTL = 5.0
MAX_ENTRIES = 10_000
CHANNEL = "access-changed"
_EVERYTHING = frozenset(p.priv_id for p in ALL_PRIVILEGES)

_TENANT = select(Tenant.id).where(Tenant.id == bindparam("tid"))
_UID: Any = bindparam("uid")
_TID: Any = bindparam("tid")
# The roles a user holds in a tenant: bound to them, to an enabled group they belong to, or
# to an enabled org they belong to or that is above theirs.
_ROLES = union(
    select(TenantUserRole.role_id).where(
        TenantUserRole.uid == _UID, TenantUserRole.tenant_id == _TID
    ),
    select(TenantGroupRole.role_id)
    .join(UserGroup, UserGroup.group_id == TenantGroupRole.group_id)
    .join(UserGroupMember, UserGroupMember.group_id == UserGroup.group_id)
    .where(
        UserGroupMember.uid == _UID,
        TenantGroupRole.tenant_id == _TID,
        UserGroup.tenant_id == _TID,
        UserGroup.is_enable.is_(True),
    ),
    select(TenantOrgRole.role_id)
    .join(
        Org,
        or_(*(getattr(Org, level) == TenantOrgRole.org_id for level in LEVEL_COLUMNS)),
    )
    .join(OrgMember, OrgMember.org_id == Org.org_id)
    .where(
        OrgMember.uid == _UID,
        TenantOrgRole.tenant_id == _TID,
        Org.tenant_id == _TID,
        Org.is_enable.is_(True),
    ),
).subquery()
# The tenants a user holds any role in, by any of the three bindings above.
_TENANTS_HELD = union(
    select(TenantUserRole.tenant_id.label("tid")).where(TenantUserRole.uid == _UID),
    select(TenantGroupRole.tenant_id)
    .join(UserGroup, UserGroup.group_id == TenantGroupRole.group_id)
    .join(UserGroupMember, UserGroupMember.group_id == UserGroup.group_id)
    .where(
        UserGroupMember.uid == _UID,
        UserGroup.tenant_id == TenantGroupRole.tenant_id,
        UserGroup.is_enable.is_(True),
    ),
    select(TenantOrgRole.tenant_id)
    .join(
        Org,
        or_(*(getattr(Org, level) == TenantOrgRole.org_id for level in LEVEL_COLUMNS)),
    )
    .join(OrgMember, OrgMember.org_id == Org.org_id)
    .where(
        OrgMember.uid == _UID,
        Org.tenant_id == TenantOrgRole.tenant_id,
        Org.is_enable.is_(True),
    ),
).subquery()
_ACTIVE = select(Tenant.id, Tenant.name).where(Tenant.is_active.is_(True)).order_by(Tenant.name)
_MINE = _ACTIVE.where(
    or_(Tenant.id.in_(select(_TENANTS_HELD.c.tid)), Tenant.id == bindparam("default"))
)
_HELD = select(_ROLES.c.role_id, RolePriv.priv_id).outerjoin(
    RolePriv, RolePriv.role_id == _ROLES.c.role_id
)
_BOUND = aliased(Business)
_BELOW = aliased(Business)
# The privileges a user's business roles grant, per business: the enabled business the role
# is bound on and every enabled business below it (its id in the bound one's level column).
_ON_BUSINESSES = (
    select(BusinessUserRole.role_id, RolePriv.priv_id, _BELOW.business_id)
    .join(_BOUND, _BOUND.business_id == BusinessUserRole.business_id)
    .join(
        _BELOW,
        or_(
            *(
                (_BOUND.business_level == level + 1)
                & (getattr(_BELOW, column) == _BOUND.business_id)
                for level, column in enumerate(BUSINESS_LEVELS)
            )
        ),
    )
    .outerjoin(RolePriv, RolePriv.role_id == BusinessUserRole.role_id)
    .where(
        BusinessUserRole.uid == _UID,
        BusinessUserRole.tenant_id == _TID,
        _BOUND.tenant_id == _TID,
        _BELOW.tenant_id == _TID,
        _BOUND.is_enable.is_(True),
        _BELOW.is_enable.is_(True),
    )
)
_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    tenant_id: str
    roles: frozenset[str]
    privileges: frozenset[str]
    # Sees every row of the tenant (its administrators), not only the caller's own.
    tenant_wide: bool
    # privilege id -> the businesses where business roles grant it (sub-businesses included).
    on_businesses: Mapping[str, frozenset[int]] = field(default_factory=dict)
    # The privilege the route declared, when business roles may widen what it sees.
    acting: str | None = None

    def can(self, priv_id: str) -> bool:
        return priv_id in self.privileges or priv_id in self.on_businesses

    def acting_for(self, priv_id: str) -> Principal:
        """This principal for a route declaring `priv_id`: its scope holds the businesses
        where business roles grant that privilege."""
        return self if not self.on_businesses else replace(self, acting=priv_id)

    def businesses_for(self, priv_id: str) -> frozenset[int]:
        return self.on_businesses.get(priv_id, _NONE)

    @property
    def scope(self) -> Scope:
        if self.acting is None or self.tenant_wide:
            return Scope(self.tenant_id, self.user.id, self.tenant_wide)
        return Scope(
            self.tenant_id,
            self.user.id,
            False,
            self.businesses_for(self.acting),
            self.acting in self.privileges,
        )


class PrincipalCache:
    """Principals by (user, tenant), each kept up to TTL seconds or until access changes."""

    def __init__(self, db: Database, redis: Any = None, prefix: str = "flowdeck") -> None:
        self.db = db
        self._redis = redis
        self._channel = f"{prefix}:{CHANNEL}"
        self._entries: dict[tuple[int, str], tuple[float, Principal]] = {}
        self._tenants: set[str] = set()

    @property
    def channel(self) -> str:
        return self._channel

    async def of(self, user: User, tenant_id: str) -> Principal:
        if user.is_superuser:
            # Platform superusers hold every privilege in every tenant that exists.
            if tenant_id not in self._tenants:
                if not await self.db.read(_TENANT, {"tid": tenant_id}):
                    raise NotFoundError(f"tenant {tenant_id} not found", field="Tenant-Id")
                self._tenants.add(tenant_id)
            return Principal(user, tenant_id, frozenset(), _EVERYTHING, True)
        key = (user.id, tenant_id)
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now and hit[1].user is user:
            return hit[1]
        params = {"uid": user.id, "tid": tenant_id}
        rows = await self.db.read(_HELD, params)
        roles = frozenset(row[0] for row in rows)
        privileges = frozenset(row[1] for row in rows if row[1] is not None)
        granted: dict[str, set[int]] = {}
        business_roles: set[str] = set()
        for role_id, priv_id, business_id in await self.db.read(_ON_BUSINESSES, params):
            business_roles.add(role_id)
            if priv_id is not None:
                granted.setdefault(priv_id, set()).add(business_id)
        principal = Principal(
            user,
            tenant_id,
            # A business role is a role in the tenant: its holder may act there.
            roles | business_roles,
            privileges,
            bool(roles & TENANT_WIDE_ROLES),  # a role bound on a business stays in it
            {priv: frozenset(ids) for priv, ids in granted.items()},
        )
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (now + TTL, principal)
        return principal

    def clear(self, _message: bytes = b"") -> None:
        self._entries.clear()
        self._tenants.clear()

    async def changed(self) -> None:
        """Roles, role privileges or bindings changed: no process may use what it cached."""
        self.clear()
        if self._redis is not None:
            try:
                await self._redis.publish(self._channel, b"1")
            except Exception:
                # Other processes still drop their entries within TTL seconds.
                log.exception("could not announce an access change to other processes")


async def tenants_of(db: Database, user: User) -> list[tuple[str, str]]:
    """(id, name) of the active tenants a user may act in: those holding a role of theirs,
    and their default tenant; every tenant for a platform superuser."""
    if user.is_superuser:
        rows = await db.read(_ACTIVE)
    else:
        rows = await db.read(_MINE, {"uid": user.id, "default": user.tenant_id})
    return [(str(row[0]), row[1]) for row in rows]


def principal_cache(services: Any) -> PrincipalCache:
    """The process's PrincipalCache, kept with the services."""
    cache: PrincipalCache | None = services.extras.get("principal_cache")
    if cache is None:
        redis = services.extras.get("redis")
        cache = PrincipalCache(services.db, redis, services.settings.redis_prefix)
        services.extras["principal_cache"] = cache
    return cache
