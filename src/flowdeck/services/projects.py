"""Projects (Langflow's folders): unique names per owner, their flows, upload and download."""

from __future__ import annotations

from flowdeck.db.models import Flow, Project
from flowdeck.db.repositories.flows import FlowQuery, ProjectRepository
from flowdeck.errors import ConflictError, InvalidInputError
from flowdeck.schemas.flows import ProjectCreate, ProjectUpdate
from flowdeck.services.businesses import placed
from flowdeck.services.flow_files import read_flow_file
from flowdeck.services.flows import FlowService, next_free

DEFAULT_NAME = "New Project"


class ProjectService:
    """The projects a scope can see, and the flows in them."""

    def __init__(self, flows: FlowService) -> None:
        self.flows = flows
        self.repo = ProjectRepository(flows.session, flows.scope)

    async def create(self, body: ProjectCreate) -> Project:
        """A new project; a taken name gets Langflow's ` (n)` suffix."""
        base = body.name.strip() or DEFAULT_NAME
        owner = self.flows.scope.user_id
        name = next_free(base, await self.repo.owner_names(owner, base))
        if body.parent_id:
            await self.repo.get(body.parent_id)
        await placed(self.flows.session, self.flows.scope, body.business_id or None)
        project = await self.repo.create(
            name=name,
            description=body.description,
            parent_id=body.parent_id or None,
            business_id=body.business_id or None,
        )
        ids = [*(body.flows_list or []), *(body.components_list or [])]
        if ids:
            await self.flows.repo.move(ids, project.id)
        return project

    async def owned(self, sort_by: str | None, descending: bool) -> list[Project]:
        return await self.repo.owned(self.flows.scope.user_id, sort_by or "created_at", descending)

    async def get(self, project_id: str) -> Project:
        return await self.repo.get(project_id)

    async def flows_of(
        self,
        project: Project,
        *,
        is_component: bool = False,
        is_flow: bool = False,
        search: str = "",
        page: int | None = None,
        size: int | None = None,
    ) -> tuple[list[Flow], int]:
        query = FlowQuery(
            project_id=project.id,
            components_only=is_component,
            flows_only=is_flow and not is_component,
            keyword=search or None,
            sort_by="name",
            descending=False,
        )
        if page is not None and size is not None:
            return await self.flows.page(query, page, size)
        rows = await self.flows.search(query)
        return rows, len(rows)

    async def update(self, project_id: str, body: ProjectUpdate) -> Project:
        project = await self.repo.get(project_id)
        values = body.model_dump(exclude_unset=True)
        contents = values.pop("flows", None), values.pop("components", None)
        if values.get("name") is None:
            values.pop("name", None)
        elif values["name"] != project.name and values["name"] in await self.repo.owner_names(
            project.user_id, values["name"], exclude=project.id
        ):
            raise ConflictError(f"a project named {values['name']!r} already exists", field="name")
        if values.get("parent_id"):
            if values["parent_id"] in await self.repo.descendants(project.id):
                raise InvalidInputError(
                    "a project cannot be inside itself or its own sub-projects", field="parent_id"
                )
            await self.repo.get(values["parent_id"])
        if "business_id" in values:
            await placed(self.flows.session, self.flows.scope, values["business_id"] or None)
        if contents != (None, None):
            wanted = {*(contents[0] or []), *(contents[1] or [])}
            current = {f.id for f in await self.flows.repo.in_projects([project.id])}
            await self.flows.repo.move(sorted(current - wanted), None)
            await self.flows.repo.move(sorted(wanted - current), project.id)
        return await self.repo.update(project, values)

    async def delete(self, project_id: str) -> int:
        """Delete a project, the projects under it, and every flow in them; the flow count."""
        project = await self.repo.get(project_id)
        ids = await self.repo.descendants(project.id)
        deleted = await self.flows.repo.soft_delete(await self.flows.repo.in_projects(ids))
        for pid in reversed(ids):  # children first
            row = await self.repo.find(pid)
            if row is not None:
                await self.repo.delete(row)
        return deleted

    async def upload(self, filename: str | None, content: bytes) -> tuple[Project, list[Flow]]:
        """A new project holding the flows of an uploaded JSON or zip file."""
        file = read_flow_file(filename, content)
        project = await self.create(
            ProjectCreate(
                name=(file.name or "Imported Project")[:255], description=file.description
            )
        )
        flows = await self.flows.import_docs(file.flows, project.id, source=filename or "upload")
        return project, flows
