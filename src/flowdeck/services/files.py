"""Files: a flow's files (Langflow v1) and a user's own files (v2), records plus stored bytes."""

from __future__ import annotations

import logging
import re
import tempfile
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import IO

from anyio import CancelScope, to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.base import new_id, utcnow
from flowdeck.db.models import FileRecord, Flow
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.files import FileRepository, UserFileRepository
from flowdeck.db.repositories.flows import FlowRepository
from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.storage import Storage, content_type_of, safe_name

log = logging.getLogger("flowdeck.files")

# Zips up to this size are built in memory; bigger ones spill to a temporary file.
ZIP_IN_MEMORY = 8 * 1024 * 1024


class FileService:
    """Every file operation checks access through the repositories, then touches storage."""

    def __init__(
        self, session: AsyncSession, scope: Scope, storage: Storage, max_bytes: int
    ) -> None:
        self.scope = scope
        self.storage = storage
        self.max_bytes = max_bytes
        self.files = FileRepository(session, scope)
        self.own = UserFileRepository(session, scope)
        self.flows = FlowRepository(session, scope)

    # -- a flow's files (v1) ---------------------------------------------------------------

    async def flow(self, flow_id: str) -> Flow:
        """The flow, if the caller may use it; NotFoundError (404) otherwise."""
        return await self.flows.get(flow_id)

    async def upload_to_flow(
        self, flow_id: str, filename: str | None, chunks: AsyncIterable[bytes]
    ) -> FileRecord:
        """Store an upload as `<timestamp>_<filename>`; the same name again replaces it."""
        flow = await self.flow(flow_id)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
        name = safe_name(f"{stamp}_{_upload_name(filename)}", "file")
        size = await self.storage.save(flow.id, name, chunks, max_bytes=self.max_bytes)
        values = {"size": size, "content_type": content_type_of(name), "updated_at": utcnow()}
        existing = await self.files.in_flow(flow.id, name)
        if existing is not None:
            return await self.files.update(existing, values)
        try:
            return await self.files.create(
                flow_id=flow.id, name=name, path=f"{flow.id}/{name}", **values
            )
        except BaseException:
            await self._discard(flow.id, name)
            raise

    async def _discard(self, folder: str, name: str) -> None:
        """Remove bytes whose record could not be written (even while being cancelled)."""
        with CancelScope(shield=True):
            await self.storage.delete(folder, name)

    async def flow_file_names(self, flow_id: str) -> list[str]:
        flow = await self.flow(flow_id)
        return [r.name for r in await self.files.of_flow(flow.id)]

    async def flow_file(self, flow_id: str, name: str) -> FileRecord:
        flow = await self.flow(flow_id)
        row = await self.files.in_flow(flow.id, safe_name(name, "file_name"))
        if row is None:
            raise NotFoundError(f"file {name} not found in flow {flow.id}", field="file_name")
        return row

    async def delete_flow_file(self, flow_id: str, name: str) -> None:
        row = await self.flow_file(flow_id, name)
        await self.storage.delete(*_location(row))
        await self.files.delete(row)

    # -- a user's own files (v2) -----------------------------------------------------------

    @property
    def folder(self) -> str:
        return str(self.scope.user_id)

    async def upload_user_file(
        self, filename: str | None, chunks: AsyncIterable[bytes], *, append: bool = False
    ) -> FileRecord:
        """Store an upload; a taken name gets ` (n)`, or with `append` the bytes are added."""
        full = safe_name(_upload_name(filename), "file")
        suffix = PurePosixPath(full).suffix
        root = full[: -len(suffix)] if suffix else full
        existing = await self.own.mine_named(root) if append else None
        if existing is not None:
            size = await self.storage.save(
                *_location(existing), chunks, max_bytes=self.max_bytes, append=True
            )
            return await self.own.update(existing, {"size": size, "updated_at": utcnow()})
        name = _free_name(root, await self.own.my_names(root))
        file_id = new_id()
        stored = f"{file_id}{suffix}"
        size = await self.storage.save(self.folder, stored, chunks, max_bytes=self.max_bytes)
        try:
            return await self.own.create(
                id=file_id,
                name=name,
                path=f"{self.folder}/{stored}",
                size=size,
                content_type=content_type_of(full),
            )
        except BaseException:
            await self._discard(self.folder, stored)
            raise

    async def user_files(self) -> list[FileRecord]:
        return await self.own.mine()

    async def user_file(self, file_id: str) -> FileRecord:
        row = await self.own.find(file_id)
        if row is None:
            raise NotFoundError(f"file {file_id} not found", field="file_id")
        return row

    async def content(self, row: FileRecord) -> bytes:
        return await self.storage.read(*_location(row))

    async def open(self, row: FileRecord) -> AsyncIterator[bytes]:
        """The stored bytes in chunks; NotFoundError before the first one if they are gone."""
        return await self.storage.open(*_location(row))

    async def rename(self, file_id: str, name: str) -> FileRecord:
        row = await self.user_file(file_id)
        return await self.own.update(row, {"name": safe_name(name, "name")})

    async def delete_user_file(self, file_id: str) -> FileRecord:
        row = await self.user_file(file_id)
        await self.storage.delete(*_location(row))
        await self.own.delete(row)
        return row

    async def delete_user_files(self, file_ids: Sequence[str] | None = None) -> tuple[int, int]:
        """Delete some (or, given None, all) of the caller's files: (deleted, kept)."""
        if file_ids is None:
            rows = await self.own.mine()
        else:
            rows = await self.own.some(file_ids)
            if not rows:
                raise NotFoundError("no files found", field="file_ids")
        deleted = kept = 0
        for row in rows:
            try:
                await self.storage.delete(*_location(row))
            except OSError as exc:
                # Keep the record so the file can still be found and deleted later.
                log.warning("could not delete the content of file %s: %s", row.id, exc)
                kept += 1
                continue
            await self.own.delete(row)
            deleted += 1
        return deleted, kept

    async def zip_user_files(self, file_ids: Sequence[str]) -> tuple[IO[bytes], int]:
        """The caller's chosen files in one zip (entries named `<name><extension>`)."""
        rows = await self.own.some(file_ids)
        if not rows:
            raise NotFoundError("no files found", field="file_ids")
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=ZIP_IN_MEMORY)  # noqa: SIM115
        try:
            with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
                used: set[str] = set()
                for row in rows:
                    entry = _free_entry(f"{row.name}{PurePosixPath(row.path).suffix}", used)
                    chunks = await self.storage.open(*_location(row))
                    with archive.open(entry, "w", force_zip64=True) as member:
                        async for chunk in chunks:
                            # Compression is CPU work: keep it off the event loop.
                            await to_thread.run_sync(member.write, chunk)
            size = spool.tell()
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool, size


def _upload_name(filename: str | None) -> str:
    if not filename or not filename.strip():
        raise InvalidInputError("the uploaded file has no name", field="file")
    return filename


def _location(row: FileRecord) -> tuple[str, str]:
    """(folder, stored name) from a record's `<folder>/<name>` path."""
    folder, _, name = row.path.partition("/")
    return folder, name


def _free_name(root: str, taken: set[str]) -> str:
    """`root`, or `root (n)` one above the highest number in use (Langflow's rule)."""
    if root not in taken:
        return root
    pattern = re.compile(rf"^{re.escape(root)} \((\d+)\)$")
    numbers = [int(m.group(1)) for name in taken if (m := pattern.match(name))]
    return f"{root} ({max(numbers, default=0) + 1})"


def _free_entry(name: str, used: set[str]) -> str:
    """A zip entry name not used yet: `a.txt`, then `a (1).txt`, `a (2).txt`..."""
    path = PurePosixPath(name)
    candidate, n = name, 0
    while candidate in used:
        n += 1
        candidate = f"{path.stem} ({n}){path.suffix}"
    used.add(candidate)
    return candidate
