"""A user's own files at Langflow's v2 paths: upload, list, download, rename, delete, zip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import IO, Annotated
from uuid import UUID

from anyio import to_thread
from fastapi import Body, Query, UploadFile
from fastapi.responses import StreamingResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import CurrentUser
from flowdeck.api.files import FilesDep, send_file, stream, upload_chunks
from flowdeck.api.paths import both
from flowdeck.errors import InvalidInputError
from flowdeck.schemas.common import QueryBool
from flowdeck.schemas.files import Detail, FilesDeleted, UserFileRead
from flowdeck.storage import CHUNK

router = guarded_router(prefix="/api/v2", tags=["Files"])

FileIds = Annotated[list[UUID], Body()]


# Fixed paths first: `/files/{file_id}/` would otherwise take `/files/batch/`.
@both(router, "POST", "/files/batch/", response_model=None)
@requires(Module.FILES, Op.READ)
async def download_files_batch(file_ids: FileIds, files: FilesDep) -> StreamingResponse:
    """The chosen files in one zip; 404 when none of them is the caller's."""
    spool, size = await files.zip_user_files([str(i) for i in file_ids])
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    return stream(
        _spooled(spool),
        name=f"{stamp}_flowdeck_files.zip",
        media_type="application/x-zip-compressed",
        size=size,
    )


@both(router, "DELETE", "/files/batch/", response_model=FilesDeleted)
@requires(Module.FILES, Op.DELETE)
async def delete_files_batch(file_ids: FileIds, files: FilesDep) -> FilesDeleted:
    deleted, kept = await files.delete_user_files([str(i) for i in file_ids])
    return FilesDeleted(
        message=f"{deleted} files deleted successfully", files_deleted=deleted, files_kept=kept
    )


@both(router, "POST", "/files", response_model=UserFileRead, status_code=201)
@requires(Module.FILES, Op.WRITE)
async def upload_user_file(
    file: UploadFile, files: FilesDep, user: CurrentUser, append: QueryBool = False
) -> UserFileRead:
    """Store a file for the caller; a taken name gets ` (n)`, `append` adds to the same name."""
    row = await files.upload_user_file(file.filename, upload_chunks(file), append=append)
    return UserFileRead.of(row, user.id)


@both(router, "GET", "/files", response_model=list[UserFileRead])
@requires(Module.FILES, Op.READ)
async def list_files(files: FilesDep, user: CurrentUser) -> list[UserFileRead]:
    """The caller's files, oldest first."""
    return [UserFileRead.of(row, user.id) for row in await files.user_files()]


@both(router, "DELETE", "/files", response_model=FilesDeleted)
@requires(Module.FILES, Op.DELETE)
async def delete_all_files(files: FilesDep) -> FilesDeleted:
    deleted, kept = await files.delete_user_files()
    return FilesDeleted(
        message="All files deleted successfully", files_deleted=deleted, files_kept=kept
    )


@both(router, "GET", "/files/{file_id}", response_model=None)
@requires(Module.FILES, Op.READ)
async def download_file(
    file_id: UUID, files: FilesDep, return_content: QueryBool = False
) -> StreamingResponse | str:
    """The file as an attachment named `<name><extension>`, or with `return_content` its text."""
    row = await files.user_file(str(file_id))
    if return_content:
        try:
            return (await files.content(row)).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"file {row.id} is not UTF-8 text; download it without return_content",
                field="return_content",
            ) from exc
    return await send_file(files, row, name=f"{row.name}{_suffix(row.path)}")


@both(router, "PUT", "/files/{file_id}", response_model=UserFileRead)
@requires(Module.FILES, Op.MODIFY)
async def edit_file_name(
    file_id: UUID, name: Annotated[str, Query()], files: FilesDep, user: CurrentUser
) -> UserFileRead:
    """Rename a file (the name is shown without its extension, as on upload)."""
    return UserFileRead.of(await files.rename(str(file_id), name), user.id)


@both(router, "DELETE", "/files/{file_id}", response_model=Detail)
@requires(Module.FILES, Op.DELETE)
async def delete_file(file_id: UUID, files: FilesDep) -> Detail:
    row = await files.delete_user_file(str(file_id))
    return Detail(detail=f"File {row.name} deleted successfully")


def _suffix(path: str) -> str:
    dot = path.rfind(".")
    return path[dot:] if dot > path.rfind("/") else ""


async def _spooled(spool: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await to_thread.run_sync(spool.read, CHUNK):
            yield chunk
    finally:
        spool.close()
