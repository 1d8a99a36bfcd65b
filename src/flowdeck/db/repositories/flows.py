"""Flows, flow versions and projects: lookups by id, endpoint name or slug, filters, pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.base import utcnow
from flowdeck.db.models import Flow, FlowVersion, Project
from flowdeck.db.repositories.base import Repository, Scope
from flowdeck.errors import InvalidInputError

SORTABLE = {
    "name": Flow.name,
    "updated_at": Flow.updated_at,
    "created_at": Flow.created_at,
    "create_at": Flow.created_at,
}

PROJECT_SORTABLE = {
    "name": Project.name,
    "created_at": Project.created_at,
    "updated_at": Project.updated_at,
}


# Columns that change whenever a flow changes in a way a run could see.
FINGERPRINT = (
    Flow.updated_at,
    Flow.deployment_status,
    Flow.is_online,
    Flow.online_version_id,
    Flow.user_id,
    Flow.locked,
)


_FINGERPRINT_QUERIES: dict[tuple[bool, bool, bool], Select[Any]] = {}
_TOOL_QUERIES: dict[tuple[bool, bool, bool], Select[Any]] = {}


@dataclass(frozen=True, slots=True)
class FlowQuery:
    """What a flow listing asks for; every field narrows it."""

    owner_id: int | None = None
    project_id: str | None = None
    components_only: bool = False
    flows_only: bool = False
    without_examples: bool = False
    keyword: str | None = None
    flow_type: str | None = None
    sort_by: str = "updated_at"
    descending: bool = True


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

    @classmethod
    def fingerprints_query(cls, scope: Scope, ref: str) -> tuple[Select[Any], dict[str, Any]]:
        """What `by_ref` would match, cheaply: (id, *FINGERPRINT) per row, no flow data.

        Some writes keep `updated_at` (deployment status, publishing), so the fingerprint
        holds those columns too: equal fingerprints mean an unchanged row for a run.
        Returns the statement (built once per shape) and its parameters.
        """
        by_id = _is_uuid(ref)
        by_owner = cls.owner_scoped(scope)
        by_business = by_owner and bool(scope.businesses)
        shape = (by_id, by_owner, by_business)
        stmt = _FINGERPRINT_QUERIES.get(shape)
        if stmt is None:
            conditions = [Flow.endpoint_name == bindparam("ref"), Flow.slug == bindparam("ref")]
            if by_id:
                conditions.insert(0, Flow.id == bindparam("ref_id"))
            base: Select[Any] = select(Flow.id, *FINGERPRINT)  # type: ignore[assignment]
            stmt = _FINGERPRINT_QUERIES[shape] = cls.scoped_template(
                base, by_owner, by_business
            ).where(or_(*conditions))
        params = cls.scope_params(scope)
        params["ref"] = ref
        if by_id:
            params["ref_id"] = str(uuid.UUID(ref))
        return stmt, params

    @classmethod
    def tool_fingerprints_query(
        cls, scope: Scope, project_id: str | None
    ) -> tuple[Select[Any], dict[str, Any]]:
        """The flows served as MCP tools (`mcp_enabled`, not components) that `scope` sees,
        in a project if one is named: (id, *FINGERPRINT) per row, in name order."""
        by_owner = cls.owner_scoped(scope)
        by_business = by_owner and bool(scope.businesses)
        shape = (project_id is not None, by_owner, by_business)
        stmt = _TOOL_QUERIES.get(shape)
        if stmt is None:
            base: Select[Any] = select(Flow.id, *FINGERPRINT).where(  # type: ignore[assignment]
                Flow.mcp_enabled.is_(True), Flow.is_component.is_(False)
            )
            if project_id is not None:
                base = base.where(Flow.project_id == bindparam("project"))
            stmt = _TOOL_QUERIES[shape] = cls.scoped_template(base, by_owner, by_business).order_by(
                Flow.name, Flow.id
            )
        params = cls.scope_params(scope)
        if project_id is not None:
            params["project"] = project_id
        return stmt, params

    async def get_for_update(self, flow_id: str) -> Flow:
        """A flow, locked for the rest of the transaction where the database can lock rows."""
        stmt = self.scoped(select(Flow).where(Flow.id == flow_id)).with_for_update()
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            return await self.get(flow_id)
        return row  # type: ignore[no-any-return]

    async def id_taken(self, flow_id: str) -> bool:
        """Whether any flow holds this id, in any tenant and deleted ones too: an upsert
        may not create a flow there (it answers 404, as for a flow it cannot see)."""
        stmt = select(Flow.id).where(Flow.id == flow_id)
        return (await self.session.execute(stmt)).first() is not None

    async def by_ids(self, ids: Sequence[str]) -> list[Flow]:
        return await self.list(Flow.id.in_(list(ids)), order_by=(Flow.name,)) if ids else []

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

    async def slug_taken(self, slug: str, exclude: str | None = None) -> bool:
        stmt = select(Flow.id).where(Flow.tenant_id == self.scope.tenant_id, Flow.slug == slug)
        if exclude:
            stmt = stmt.where(Flow.id != exclude)
        return (await self.session.execute(stmt.limit(1))).first() is not None

    async def name_taken(self, name: str, exclude: str | None = None) -> bool:
        conditions = [Flow.name == name]
        if exclude:
            conditions.append(Flow.id != exclude)
        return await self.count(*conditions) > 0

    async def owner_names(
        self, owner_id: int | None, prefix: str, exclude: str | None = None
    ) -> set[str]:
        """Names of an owner's live flows that start with `prefix`."""
        stmt = select(Flow.name).where(
            Flow.tenant_id == self.scope.tenant_id,
            Flow.deleted_at.is_(None),
            Flow.user_id.is_(None) if owner_id is None else Flow.user_id == owner_id,
            Flow.name.startswith(prefix, autoescape=True),
        )
        if exclude:
            stmt = stmt.where(Flow.id != exclude)
        return set((await self.session.execute(stmt)).scalars())

    async def endpoint_names(self, prefix: str, exclude: str | None = None) -> set[str]:
        """Endpoint names in the tenant (every owner's) that start with `prefix`."""
        stmt = select(Flow.endpoint_name).where(
            Flow.tenant_id == self.scope.tenant_id,
            Flow.endpoint_name.startswith(prefix, autoescape=True),
        )
        if exclude:
            stmt = stmt.where(Flow.id != exclude)
        return {n for n in (await self.session.execute(stmt)).scalars() if n}

    def _query(self, stmt: Select[Any], q: FlowQuery) -> Select[Any]:
        stmt = self.scoped(stmt)
        if q.owner_id is not None:
            stmt = stmt.where(Flow.user_id == q.owner_id)
        if q.project_id is not None:
            stmt = stmt.where(Flow.project_id == q.project_id)
        if q.components_only:
            stmt = stmt.where(Flow.is_component.is_(True))
        if q.flows_only:
            stmt = stmt.where(Flow.is_component.is_(False))
        if q.without_examples:
            stmt = stmt.where(Flow.user_id.is_not(None))
        if q.flow_type:
            stmt = stmt.where(Flow.flow_type == q.flow_type)
        if q.keyword:
            kw = q.keyword.lower()
            stmt = stmt.where(
                or_(
                    func.lower(Flow.name).contains(kw, autoescape=True),
                    func.lower(Flow.description).contains(kw, autoescape=True),
                )
            )
        return stmt

    async def search(self, q: FlowQuery, offset: int = 0, limit: int | None = None) -> list[Flow]:
        column = SORTABLE.get(q.sort_by)
        if column is None:
            raise InvalidInputError(
                f"cannot sort by {q.sort_by!r}; use one of {', '.join(SORTABLE)}", field="sort_by"
            )
        stmt = self._query(select(Flow), q).order_by(
            column.desc() if q.descending else column.asc(), Flow.id
        )
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def count_matching(self, q: FlowQuery) -> int:
        stmt = self._query(select(func.count()).select_from(Flow), q)
        return int((await self.session.execute(stmt)).scalar_one())

    async def soft_delete(self, rows: Sequence[Flow]) -> int:
        """Mark flows deleted and free their slug and endpoint name for new flows."""
        now = utcnow()
        for row in rows:
            self.check_owner(row)
            row.deleted_at = now
            row.endpoint_name = None
            row.slug = f"{row.slug}.deleted-{row.id[:8]}"
        await self.session.flush()
        return len(rows)

    async def update_unchanged(self, flow: Flow, values: dict[str, Any]) -> bool:
        """Write only if the row still has the `updated_at` it was read with (compare-and-set)."""
        self.check_owner(flow)
        result = await self.session.execute(
            update(Flow)
            .where(Flow.id == flow.id, Flow.updated_at == flow.updated_at)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        await self.session.refresh(flow)
        return True

    async def set_online(self, flow: Flow, version_id: int | None) -> Flow:
        """Publish or unpublish without touching `updated_at` (the draft did not change)."""
        self.check_owner(flow)
        await self.session.execute(
            update(Flow)
            .where(Flow.id == flow.id)
            .values(
                is_online=version_id is not None,
                online_version_id=version_id,
                updated_at=Flow.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(flow)
        return flow

    async def in_projects(self, project_ids: Sequence[str]) -> list[Flow]:
        return await self.list(Flow.project_id.in_(list(project_ids))) if project_ids else []

    async def move(self, flow_ids: Sequence[str], project_id: str | None) -> None:
        for row in await self.by_ids(flow_ids):
            self.check_owner(row)
            row.project_id = project_id
        await self.session.flush()

    async def version_labels(self, version_ids: Sequence[int]) -> dict[int, str]:
        if not version_ids:
            return {}
        stmt = select(FlowVersion.id, FlowVersion.version).where(
            FlowVersion.tenant_id == self.scope.tenant_id, FlowVersion.id.in_(list(version_ids))
        )
        return {row[0]: row[1] for row in (await self.session.execute(stmt)).all()}

    @staticmethod
    async def public(session: AsyncSession, flow_id: str) -> Flow | None:
        """A live flow by id in any tenant, whoever owns it (the caller checks its access)."""
        stmt = select(Flow).where(Flow.id == flow_id, Flow.deleted_at.is_(None))
        return (await session.execute(stmt)).scalar_one_or_none()


class FlowVersionRepository(Repository[FlowVersion]):
    model = FlowVersion
    per_owner = False
    label = "flow version"

    async def of_flow(self, flow_id: str) -> list[FlowVersion]:
        return await self.list(FlowVersion.flow_id == flow_id, order_by=(FlowVersion.id.desc(),))

    async def find_in(self, flow_id: str, version_id: int) -> FlowVersion | None:
        rows = await self.list(FlowVersion.flow_id == flow_id, FlowVersion.id == version_id)
        return rows[0] if rows else None

    async def by_label(self, flow_id: str, version: str) -> FlowVersion | None:
        rows = await self.list(FlowVersion.flow_id == flow_id, FlowVersion.version == version)
        return rows[0] if rows else None


class ProjectRepository(Repository[Project]):
    model = Project
    label = "project"

    async def owned(
        self, owner_id: int | None, sort_by: str = "created_at", descending: bool = False
    ) -> list[Project]:
        column = PROJECT_SORTABLE.get(sort_by)
        if column is None:
            raise InvalidInputError(
                f"cannot sort by {sort_by!r}; use one of {', '.join(PROJECT_SORTABLE)}",
                field="sort_by",
            )
        order = column.desc() if descending else column.asc()
        return await self.list(Project.user_id == owner_id, order_by=(order, Project.id))

    async def owner_names(
        self, owner_id: int | None, prefix: str, exclude: str | None = None
    ) -> set[str]:
        conditions = [Project.user_id == owner_id, Project.name.startswith(prefix, autoescape=True)]
        if exclude:
            conditions.append(Project.id != exclude)
        return {p.name for p in await self.list(*conditions)}

    async def descendants(self, project_id: str) -> list[str]:
        """The ids of a project and of every project below it."""
        found, frontier = [project_id], [project_id]
        while frontier:
            children = await self.list(Project.parent_id.in_(frontier))
            frontier = [c.id for c in children if c.id not in found]
            found.extend(frontier)
        return found


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:200]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
