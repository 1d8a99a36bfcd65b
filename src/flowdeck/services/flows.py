"""Flow decisions: graph checks on save, unique names, slugs and endpoints, no lost updates."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.base import utcnow
from flowdeck.db.models import Flow, FlowVersion
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.flows import FlowQuery, FlowRepository, ProjectRepository
from flowdeck.engine import Engine, parse_flow
from flowdeck.errors import (
    ConflictError,
    FlowValidationError,
    GraphIssue,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from flowdeck.schemas.flows import FlowCreate, FlowRead, FlowUpdate, as_utc
from flowdeck.services.businesses import placed

ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Fields a PATCH may clear with null; a null anywhere else means "leave it as it is".
NULLABLE = frozenset(
    {
        "description",
        "icon",
        "icon_bg_color",
        "gradient",
        "endpoint_name",
        "action_name",
        "action_description",
        "project_id",
        "business_id",
    }
)
MS = timedelta(milliseconds=1)


def next_free(base: str, taken: set[str], *, dash: bool = False) -> str:
    """`base` if free, else Langflow's next numbered variant: `base (n)` or `base-n`."""
    if base not in taken:
        return base
    pattern = (
        re.compile(rf"^{re.escape(base)}-(\d+)$")
        if dash
        else re.compile(rf"^{re.escape(base)} \((\d+)\)$")
    )
    numbers = [int(m.group(1)) for name in taken if (m := pattern.match(name))]
    n = max(numbers, default=0) + 1
    return f"{base}-{n}" if dash else f"{base} ({n})"


class FlowService:
    """Creates, reads, updates and deletes the flows a scope can see."""

    def __init__(self, session: AsyncSession, scope: Scope, engine: Engine) -> None:
        self.session = session
        self.scope = scope
        self.engine = engine
        self.repo = FlowRepository(session, scope)
        self.projects = ProjectRepository(session, scope)

    async def validate_graph(self, data: dict[str, Any] | None, *, is_component: bool) -> None:
        """Compile the graph; FlowValidationError (422) names every node and field at fault.

        Node types the built-ins lack may be the tenant's stored components.
        """
        if data and not is_component:
            spec = parse_flow(data)
            stored = await self.engine.stored_components(spec, self.scope.tenant_id)
            self.engine.compile(spec, None, stored)

    def problems(self, data: dict[str, Any]) -> list[GraphIssue]:
        """What validate_graph would refuse the graph for: every issue, none when valid."""
        try:
            self.engine.compile(data)
        except FlowValidationError as exc:
            return exc.issues
        return []

    async def get(self, flow_id: str) -> Flow:
        return await self.repo.get(flow_id)

    async def create(
        self, body: FlowCreate, *, rename_clashes: bool = False, flow_id: str | None = None
    ) -> Flow:
        values = body.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        if flow_id is not None:
            values["id"] = flow_id
        await self.validate_graph(body.data, is_component=bool(body.is_component))
        name = next_free(body.name, await self.repo.owner_names(self.scope.user_id, body.name))
        values["name"] = name
        values["endpoint_name"] = await self._endpoint(body.endpoint_name, rename=rename_clashes)
        values["slug"] = (
            await self._slug(body.slug, rename=rename_clashes)
            if body.slug
            else await self.repo.unique_slug(name)
        )
        if body.project_id:
            await self.projects.get(body.project_id)
        await placed(self.session, self.scope, body.business_id or None)
        return await self.repo.create(**values)

    async def upsert(
        self, flow_id: str, body: FlowCreate, before_create: Callable[[], None]
    ) -> tuple[Flow, bool]:
        """Langflow's PUT: update the flow with this id, or create it with this id
        (`before_create` checks the caller may create). (flow, created)."""
        if await self.repo.find(flow_id) is not None:
            update = FlowUpdate.model_validate(body.model_dump(exclude_unset=True))
            return await self.update(flow_id, update), False
        if await self.repo.id_taken(flow_id):
            raise NotFoundError(f"flow {flow_id} not found", field="flow_id")
        before_create()
        return await self.create(body, flow_id=flow_id), True

    async def import_docs(
        self, docs: Sequence[dict[str, Any]], project_id: str | None, source: str = "upload"
    ) -> list[Flow]:
        """Create flows from uploaded documents; clashing names and endpoints get a number."""
        if project_id:
            await self.projects.get(project_id)
        created = []
        for i, doc in enumerate(docs):
            try:
                body = FlowCreate.model_validate({**doc, "project_id": project_id})
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                )
                raise InvalidInputError(
                    f"{source}: flow {i} is not a valid flow: {problems}", field="file"
                ) from exc
            try:
                created.append(await self.create(body, rename_clashes=True))
            except FlowValidationError as exc:
                exc.message = f"{source}: flow {body.name!r}: {exc.message}"
                raise
        return created

    async def update(self, flow_id: str, body: FlowUpdate) -> Flow:
        flow = await self.repo.get_for_update(flow_id)
        if body.last_known_updated_at is not None:
            self._check_fresh(flow, body.last_known_updated_at)
        values = body.model_dump(mode="json", exclude_unset=True)
        values.pop("last_known_updated_at", None)
        changes = {
            k: v
            for k, v in values.items()
            if (v is not None or k in NULLABLE) and getattr(flow, k) != v
        }
        if not changes:
            return flow
        if flow.locked and changes.get("locked") is not False:
            raise InvalidStateError(
                f"flow {flow.id} is locked; unlock it (locked: false) before changing it",
                field="locked",
            )
        if "name" in changes and changes["name"] in await self.repo.owner_names(
            flow.user_id, changes["name"], exclude=flow.id
        ):
            raise ConflictError(f"a flow named {changes['name']!r} already exists", field="name")
        if "endpoint_name" in changes:
            changes["endpoint_name"] = await self._endpoint(
                changes["endpoint_name"], exclude=flow.id
            )
        if "slug" in changes:
            changes["slug"] = await self._slug(changes["slug"], exclude=flow.id)
        if changes.get("project_id"):
            await self.projects.get(changes["project_id"])
        if "business_id" in changes:
            await placed(self.session, self.scope, changes["business_id"] or None)
        if "data" in changes or "is_component" in changes:
            await self.validate_graph(
                changes.get("data", flow.data),
                is_component=changes.get("is_component", flow.is_component),
            )
        changes["updated_at"] = self._next_stamp(flow)
        if body.last_known_updated_at is None:
            return await self.repo.update(flow, changes)
        # The row lock above holds on PostgreSQL; on SQLite only this compare-and-set does.
        if not await self.repo.update_unchanged(flow, changes):
            raise ConflictError(
                f"flow {flow.id} was changed by another request at the same time; reload it "
                "and apply your change again",
                field="last_known_updated_at",
            )
        return flow

    def _check_fresh(self, flow: Flow, known: datetime) -> None:
        """A write based on an older copy than the stored one is refused (409), never merged."""
        stored, seen = as_utc(flow.updated_at), as_utc(known)
        assert stored is not None
        assert seen is not None
        compared = stored
        if seen.microsecond % 1000 == 0:  # the client kept milliseconds only (JavaScript)
            compared = stored.replace(microsecond=stored.microsecond // 1000 * 1000)
        if compared != seen:
            raise ConflictError(
                f"flow {flow.id} was changed since you read it (stored updated_at "
                f"{stored.isoformat()}, yours {seen.isoformat()}); reload it and apply your "
                "change again",
                field="last_known_updated_at",
                updated_at=stored.isoformat(),
            )

    @staticmethod
    def _next_stamp(flow: Flow) -> datetime:
        """Now, but at least a millisecond after the stored stamp so every write is told apart."""
        now, stored = utcnow(), as_utc(flow.updated_at)
        return max(now, stored + MS) if stored is not None else now

    async def _endpoint(
        self, name: str | None, *, exclude: str | None = None, rename: bool = False
    ) -> str | None:
        if not name:
            return None
        if not ENDPOINT_NAME.match(name):
            raise InvalidInputError(
                f"endpoint_name {name!r} may only contain letters, digits, '-' and '_'",
                field="endpoint_name",
            )
        taken = await self.repo.endpoint_names(name, exclude)
        if name not in taken:
            return name
        if rename:
            return next_free(name, taken, dash=True)
        raise ConflictError(
            f"endpoint name {name!r} is used by another flow", field="endpoint_name"
        )

    async def _slug(self, slug: str, exclude: str | None = None, rename: bool = False) -> str:
        if not SLUG.match(slug):
            raise InvalidInputError(
                f"slug {slug!r} may only contain lowercase letters, digits, '-' and '_'",
                field="slug",
            )
        if await self.repo.slug_taken(slug, exclude):
            if rename:
                return await self.repo.unique_slug(slug)
            raise ConflictError(f"slug {slug!r} is used by another flow", field="slug")
        return slug

    async def search(self, query: FlowQuery) -> list[Flow]:
        return await self.repo.search(query)

    async def page(self, query: FlowQuery, page: int, size: int) -> tuple[list[Flow], int]:
        total = await self.repo.count_matching(query)
        return await self.repo.search(query, offset=(page - 1) * size, limit=size), total

    async def delete(self, flow_id: str) -> None:
        await self.repo.soft_delete([await self.repo.get(flow_id)])

    async def delete_many(self, flow_ids: Sequence[str]) -> int:
        return await self.repo.soft_delete(await self.repo.by_ids(flow_ids))

    async def reads(self, flows: Sequence[Flow]) -> list[FlowRead]:
        """FlowRead for each flow, with the label of its published version."""
        labels = await self.repo.version_labels(
            [f.online_version_id for f in flows if f.online_version_id is not None]
        )
        out = []
        for flow in flows:
            read = FlowRead.model_validate(flow)
            if flow.online_version_id is not None:
                read.online_version = labels.get(flow.online_version_id)
            out.append(read)
        return out

    async def read(self, flow: Flow) -> FlowRead:
        return (await self.reads([flow]))[0]

    async def read_version(self, flow: Flow, version: FlowVersion) -> FlowRead:
        """The flow as a version froze it: the version's name, description and graph."""
        read = await self.read(flow)
        return read.model_copy(
            update={"name": version.name, "description": version.description, "data": version.data}
        )


async def public_flow(session: AsyncSession, flow_id: str, *, enabled: bool) -> Flow:
    """A flow anyone may read: it must exist and be PUBLIC."""
    flow = await FlowRepository.public(session, flow_id)
    if flow is None:
        raise NotFoundError(f"flow {flow_id} not found", field="flow_id")
    if not enabled:
        raise PermissionDeniedError("public flows are disabled on this server")
    if flow.access_type != "PUBLIC":
        raise PermissionDeniedError(f"flow {flow_id} is not public")
    return flow
