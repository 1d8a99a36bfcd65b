"""File records: a flow's files (v1) and a user's own files (v2, no flow)."""

from __future__ import annotations

from collections.abc import Sequence

from flowdeck.db.models import FileRecord
from flowdeck.db.repositories.base import Repository


class FileRepository(Repository[FileRecord]):
    model = FileRecord
    # Flow files follow the flow's access; user files are filtered by owner explicitly below.
    per_owner = False
    label = "file"

    async def of_flow(self, flow_id: str) -> list[FileRecord]:
        return await self.list(
            FileRecord.flow_id == flow_id, order_by=(FileRecord.created_at, FileRecord.name)
        )

    async def in_flow(self, flow_id: str, name: str) -> FileRecord | None:
        rows = await self.list(FileRecord.flow_id == flow_id, FileRecord.name == name, limit=1)
        return rows[0] if rows else None

    async def of_user(self, user_id: int | None) -> list[FileRecord]:
        return await self.list(*_user(user_id), order_by=(FileRecord.created_at, FileRecord.id))

    async def user_file(self, user_id: int | None, file_id: str) -> FileRecord | None:
        rows = await self.list(*_user(user_id), FileRecord.id == file_id, limit=1)
        return rows[0] if rows else None

    async def user_files(self, user_id: int | None, file_ids: Sequence[str]) -> list[FileRecord]:
        if not file_ids:
            return []
        return await self.list(
            *_user(user_id),
            FileRecord.id.in_(list(file_ids)),
            order_by=(FileRecord.created_at, FileRecord.id),
        )

    async def user_file_named(self, user_id: int | None, name: str) -> FileRecord | None:
        rows = await self.list(
            *_user(user_id), FileRecord.name == name, order_by=(FileRecord.created_at,), limit=1
        )
        return rows[0] if rows else None

    async def user_names(self, user_id: int | None, prefix: str) -> set[str]:
        """Names of the user's files that start with `prefix`."""
        rows = await self.list(*_user(user_id), FileRecord.name.startswith(prefix, autoescape=True))
        return {r.name for r in rows}


def _user(user_id: int | None) -> tuple[object, ...]:
    """A user's own files: theirs, and not attached to a flow."""
    owner = FileRecord.user_id.is_(None) if user_id is None else FileRecord.user_id == user_id
    return (owner, FileRecord.flow_id.is_(None))
