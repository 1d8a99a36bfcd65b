"""Hooks several resources share."""

from __future__ import annotations

from flowdeck.access.principal import principal_cache
from flowdeck.resources.declaration import Context


async def access_changed(ctx: Context) -> None:
    """Roles, privileges, bindings or memberships changed: no process may keep using the
    principals it cached (flowdeck.access.principal)."""
    await ctx.session.flush()
    await principal_cache(ctx.services).changed()
