"""Projects at Langflow's paths (`/api/v1/projects`, and the legacy `/api/v1/folders`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, File, Query, Request, UploadFile
from fastapi.responses import Response

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.flows import FlowsDep, zip_response
from flowdeck.api.paths import both
from flowdeck.api.responses import JSON
from flowdeck.db.models import Project
from flowdeck.db.repositories.flows import PROJECT_SORTABLE
from flowdeck.errors import InvalidInputError
from flowdeck.schemas.common import PageNumber, QueryBool
from flowdeck.schemas.flows import (
    FlowRead,
    Page,
    ProjectCreate,
    ProjectRead,
    ProjectUpdate,
    ProjectWithFlows,
    ProjectWithPage,
)
from flowdeck.services.flow_files import export
from flowdeck.services.projects import ProjectService

router = guarded_router(prefix="/api/v1/projects", tags=["Projects"])
folders_router = guarded_router(
    prefix="/api/v1/folders", tags=["Projects"], include_in_schema=False
)


def project_service(flows: FlowsDep) -> ProjectService:
    return ProjectService(flows)


ProjectsDep = Annotated[ProjectService, Depends(project_service)]


@requires(Module.PROJECTS, Op.WRITE)
async def create_project(body: ProjectCreate, projects: ProjectsDep) -> Project:
    """Create a project; `flows_list` and `components_list` move those flows into it."""
    return await projects.create(body)


@requires(Module.PROJECTS, Op.READ)
async def read_projects(
    projects: ProjectsDep,
    sort_by: Annotated[str | None, Query(json_schema_extra={"enum": [*PROJECT_SORTABLE]})] = None,
    sort_order: Literal["asc", "desc"] = "asc",
) -> list[Project]:
    """The caller's projects."""
    return await projects.owned(sort_by, sort_order == "desc")


@requires(Module.PROJECTS, Op.READ)
async def download_file(project_id: UUID, projects: ProjectsDep) -> Response:
    """Every flow of the project in a zip, one JSON file each."""
    project = await projects.get(str(project_id))
    rows, _ = await projects.flows_of(project)
    docs = [export(r) for r in await projects.flows.reads(rows)]
    return zip_response(docs, f"{project.name}_flows")


@requires(Module.PROJECTS, Op.WRITE)
async def upload_file(
    request: Request,
    projects: ProjectsDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> list[FlowRead]:
    """A new project with the flows of a JSON ({folder_name, flows}) or zip file, sent as
    the multipart field `file` or as the body itself (langflow-sdk sends the zip so)."""
    if file is not None:
        name, content = file.filename, await file.read()
    else:
        content = await request.body()
        if not content:
            raise InvalidInputError(
                "send the project as the multipart field `file` or as the body", field="file"
            )
        name = "project.zip" if content.startswith(b"PK") else "project.json"
    _, flows = await projects.upload(name, content)
    return await projects.flows.reads(flows)


@requires(Module.PROJECTS, Op.READ)
async def read_project(
    project_id: UUID,
    projects: ProjectsDep,
    page: PageNumber | None = None,
    size: Annotated[int | None, Query(ge=1, le=100)] = None,
    is_component: QueryBool = False,
    is_flow: QueryBool = False,
    search: str = "",
) -> JSON:
    """The project with its flows; with `page` and `size`, one page of them."""
    project = await projects.get(str(project_id))
    rows, total = await projects.flows_of(
        project, is_component=is_component, is_flow=is_flow, search=search, page=page, size=size
    )
    reads = await projects.flows.reads(rows)
    read = ProjectRead.model_validate(project)
    if page is not None and size is not None:
        body: Any = ProjectWithPage(
            project=read, folder=read, flows=Page[FlowRead].of(reads, total, page, size)
        )
    else:
        body = ProjectWithFlows(**read.model_dump(), flows=reads)
    return JSON(body.model_dump(mode="json"))


@requires(Module.PROJECTS, Op.MODIFY)
async def update_project(project_id: UUID, body: ProjectUpdate, projects: ProjectsDep) -> Project:
    """Rename, move, or (with `flows` / `components`) set which flows the project holds."""
    return await projects.update(str(project_id), body)


@requires(Module.PROJECTS, Op.DELETE)
async def delete_project(project_id: UUID, projects: ProjectsDep) -> Response:
    """Delete the project, its sub-projects and all their flows."""
    await projects.delete(str(project_id))
    return Response(status_code=204)


ROUTES: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = [
    ("POST", "/", create_project, {"response_model": ProjectRead, "status_code": 201}),
    ("GET", "/", read_projects, {"response_model": list[ProjectRead]}),
    ("GET", "/download/{project_id}", download_file, {"response_model": None}),
    ("POST", "/upload/", upload_file, {"response_model": list[FlowRead], "status_code": 201}),
    ("GET", "/{project_id}", read_project, {"response_model": None}),
    ("PATCH", "/{project_id}", update_project, {"response_model": ProjectRead}),
    ("DELETE", "/{project_id}", delete_project, {"response_model": None, "status_code": 204}),
]

for _router in (router, folders_router):
    for _method, _path, _endpoint, _options in ROUTES:
        both(_router, _method, _path, **_options)(_endpoint)
