"""A flow's files at Langflow's v1 paths: upload, download, image, list, delete; avatars."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import Depends, UploadFile
from fastapi.responses import StreamingResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import public, requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ScopeDep, ServicesDep, SessionDep
from flowdeck.api.paths import both
from flowdeck.db.models import FileRecord
from flowdeck.errors import InvalidInputError
from flowdeck.schemas.files import FlowFileList, FlowFileUploaded, Message, ProfilePictures
from flowdeck.services.container import Services
from flowdeck.services.files import FileService
from flowdeck.storage import CHUNK, LocalStorage, Storage, content_type_of, safe_name

router = guarded_router(prefix="/api/v1/files", tags=["Files"])


def storage_of(services: Services) -> Storage:
    """Where the server keeps uploaded files."""
    if services.storage is None:
        raise RuntimeError("the services were built without file storage")
    return services.storage


def file_service(session: SessionDep, scope: ScopeDep, services: ServicesDep) -> FileService:
    return FileService(session, scope, storage_of(services), services.settings.max_body_bytes)


FilesDep = Annotated[FileService, Depends(file_service)]


async def upload_chunks(file: UploadFile) -> AsyncIterator[bytes]:
    """An upload read piece by piece, so a large file never sits in memory whole."""
    while chunk := await file.read(CHUNK):
        yield chunk


def disposition(kind: str, name: str) -> str:
    """A Content-Disposition value; non-ASCII or quote-bearing names use RFC 5987 encoding."""
    quoted = quote(name)
    if quoted != name:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{name}"'


# Whatever a file holds, a browser opening it runs nothing: no scripts, no plugins, no
# same-origin access (GitHub's raw-content policy); an image shown by <img> is unaffected.
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def shown_inline(media_type: str) -> bool:
    """Whether a browser may display this type in place: raster images only.

    SVG is an image that runs scripts when opened as a page, so it is always an attachment
    (an <img> still shows it: it ignores Content-Disposition and runs no scripts).
    """
    return media_type.startswith("image/") and "svg" not in media_type and "xml" not in media_type


def stream(
    chunks: AsyncIterator[bytes],
    *,
    name: str,
    media_type: str,
    size: int | None = None,
    attachment: bool = True,
) -> StreamingResponse:
    """A file's bytes; inline only when asked for and the type is passive (`shown_inline`)."""
    kind = "inline" if not attachment and shown_inline(media_type) else "attachment"
    headers = {"Content-Disposition": disposition(kind, name), "Content-Security-Policy": FILE_CSP}
    if size is not None:
        headers["Content-Length"] = str(size)
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


async def send_file(
    files: FileService, row: FileRecord, *, name: str | None = None, attachment: bool = True
) -> StreamingResponse:
    """A stored file as a streamed response (404 first if its bytes are gone)."""
    return stream(
        await files.open(row),
        name=name or row.name,
        media_type=row.content_type or content_type_of(row.name),
        size=row.size,
        attachment=attachment,
    )


@both(router, "POST", "/upload/{flow_id}", response_model=FlowFileUploaded, status_code=201)
@requires(Module.FILES, Op.WRITE)
async def upload_file(flow_id: UUID, file: UploadFile, files: FilesDep) -> FlowFileUploaded:
    """Store a file for a flow as `<timestamp>_<name>`; answers its `file_path`."""
    row = await files.upload_to_flow(str(flow_id), file.filename, upload_chunks(file))
    return FlowFileUploaded(flowId=str(row.flow_id), file_path=row.path)


@both(router, "GET", "/download/{flow_id}/{file_name}", response_model=None)
@requires(Module.FILES, Op.READ)
async def download_file(flow_id: UUID, file_name: str, files: FilesDep) -> StreamingResponse:
    """A flow's file, as an attachment."""
    return await send_file(files, await files.flow_file(str(flow_id), file_name))


@both(router, "GET", "/images/{flow_id}/{file_name}", response_model=None)
@requires(Module.FILES, Op.READ)
async def download_image(flow_id: UUID, file_name: str, files: FilesDep) -> StreamingResponse:
    """A flow's image file, inline for the browser to show (SVG as an attachment)."""
    row = await files.flow_file(str(flow_id), file_name)
    media_type = row.content_type or content_type_of(row.name)
    if not media_type.startswith("image/"):
        raise InvalidInputError(f"{file_name} is not an image ({media_type})", field="file_name")
    return await send_file(files, row, attachment=False)


@both(router, "GET", "/list/{flow_id}", response_model=FlowFileList)
@requires(Module.FILES, Op.READ)
async def list_files(flow_id: UUID, files: FilesDep) -> FlowFileList:
    """The names of a flow's files, oldest first."""
    return FlowFileList(files=await files.flow_file_names(str(flow_id)))


@both(router, "DELETE", "/delete/{flow_id}/{file_name}", response_model=Message)
@requires(Module.FILES, Op.DELETE)
async def delete_file(flow_id: UUID, file_name: str, files: FilesDep) -> Message:
    await files.delete_flow_file(str(flow_id), file_name)
    return Message(message=f"File {file_name} deleted successfully")


def _pictures(services: Services) -> LocalStorage:
    return LocalStorage(services.settings.data_dir / "profile_pictures")


@both(router, "GET", "/profile_pictures/list", response_model=ProfilePictures)
@public
async def list_profile_pictures(services: ServicesDep) -> ProfilePictures:
    """Pictures under `<data_dir>/profile_pictures/<folder>/`, as `folder/name`."""
    pictures = _pictures(services)
    found = [
        f"{folder}/{name}"
        for folder in await pictures.folders()
        for name in await pictures.names(folder)
    ]
    return ProfilePictures(files=found)


@both(router, "GET", "/profile_pictures/{folder_name}/{file_name}", response_model=None)
@public
async def download_profile_picture(
    folder_name: str, file_name: str, services: ServicesDep
) -> StreamingResponse:
    safe_name(folder_name, "folder_name")
    chunks = await _pictures(services).open(folder_name, file_name)
    return stream(chunks, name=file_name, media_type=content_type_of(file_name), attachment=False)
