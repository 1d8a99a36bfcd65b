"""The default tenant and the first superuser, made by the first API process that starts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flowdeck.access.seed import TENANT_ADMIN, bind_role, sync_catalog
from flowdeck.auth.secrets import hash_password
from flowdeck.db.database import Database
from flowdeck.db.models import Tenant, User
from flowdeck.services.first_start import FirstPassword, announce
from flowdeck.settings import Settings

log = logging.getLogger("flowdeck")

DEFAULT_TENANT = "default"


async def ensure_defaults(
    db: Database,
    settings: Settings,
    password: Callable[[], FirstPassword],
    prehash: asyncio.Future[str] | None = None,
) -> str:
    """Create what is missing of the default tenant, the access catalogue and the superuser;
    the default tenant's id. `prehash` is the superuser's password hash, begun early."""
    try:
        return await _create_defaults(db, settings, password, prehash)
    except IntegrityError:
        # Another API process starting at the same moment created them first.
        return await _create_defaults(db, settings, password, prehash)


async def _create_defaults(
    db: Database,
    settings: Settings,
    password: Callable[[], FirstPassword],
    prehash: asyncio.Future[str] | None,
) -> str:
    if prehash is not None:
        await prehash  # done before the session: SQLite's write lock is not held meanwhile
    async with db.session() as session:
        tenant = (
            await session.execute(select(Tenant).where(Tenant.name == DEFAULT_TENANT))
        ).scalar_one_or_none()
        if tenant is None:
            tenant = Tenant(name=DEFAULT_TENANT, code=DEFAULT_TENANT, settings={}, is_sys=True)
            session.add(tenant)
            await session.flush()
        tenant_id = tenant.id
        await sync_catalog(session)
        existing = (
            await session.execute(select(User).where(User.username == settings.superuser))
        ).scalar_one_or_none()
        created = existing is None
        if existing is None:
            # Hashing (argon2) takes ~0.2 s: off the event loop, and only when needed.
            password_hash = (
                prehash.result()
                if prehash is not None
                else await asyncio.to_thread(hash_password, password().value)
            )
            existing = User(
                tenant_id=tenant_id,
                username=settings.superuser,
                is_superuser=True,
                password_hash=password_hash,
            )
            session.add(existing)
            await session.flush()
            await bind_role(session, tenant_id, existing.id, TENANT_ADMIN)
            log.info("created superuser %r", settings.superuser)
    if created:
        first = password()
        if first.generated:
            announce(settings, first.value)
    return tenant_id
