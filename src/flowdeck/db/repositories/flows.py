"""Flows, looked up by id, endpoint name or slug."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import or_, select

from flowdeck.db.models import Flow, FlowVersion, Project
from flowdeck.db.repositories.base import Repository


class FlowRepository(Repository[Flow]):
    model = Flow
    label = "flow"

    async def by_ref(self, ref: str) -> Flow:
        """A flow by id, endpoint name, or slug (what `/run/{flow_id_or_name}` accepts)."""
        conditions = [Flow.endpoint_name == ref, Flow.slug == ref]
        if _is_uuid(ref):
            conditions.insert(0, Flow.id == str(uuid.UUID(ref)))
        rows = await self.list(or_(*conditions))
        if not rows:
            return await self.get(ref)  # raises the NotFoundError naming the ref
        # An id match wins over a name match.
        return next((r for r in rows if r.id == ref), rows[0])

    async def unique_slug(self, name: str, exclude: str | None = None) -> str:
        base = slugify(name) or "flow"
        stmt = select(Flow.slug).where(
            Flow.tenant_id == self.scope.tenant_id, Flow.slug.like(f"{base}%")
        )
        if exclude:
            stmt = stmt.where(Flow.id != exclude)
        taken = set((await self.session.execute(stmt)).scalars())
        if base not in taken:
            return base
        n = 1
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    async def name_taken(self, name: str, exclude: str | None = None) -> bool:
        conditions = [Flow.name == name]
        if exclude:
            conditions.append(Flow.id != exclude)
        return await self.count(*conditions) > 0


class FlowVersionRepository(Repository[FlowVersion]):
    model = FlowVersion
    per_owner = False
    label = "flow version"


class ProjectRepository(Repository[Project]):
    model = Project
    label = "project"


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:200]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
