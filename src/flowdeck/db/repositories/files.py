"""File records: a flow's files (v1) and a user's own files (v2, no flow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select

from flowdeck.db.models import FileRecord
from flowdeck.db.repositories.base import Repository

_NO_FLOW = FileRecord.flow_id.is_(None)


class FileRepository(Repository[FileRecord]):
    """A flow's files: they follow the flow's access (the flow is found in the scope first),
    whoever of its readers uploaded them."""

    model = FileRecord
    per_owner = False
    label = "file"

    async def of_flow(self, flow_id: str) -> list[FileRecord]:
        return await self.list(
            FileRecord.flow_id == flow_id, order_by=(FileRecord.created_at, FileRecord.name)
        )

    async def in_flow(self, flow_id: str, name: str) -> FileRecord | None:
        rows = await self.list(FileRecord.flow_id == flow_id, FileRecord.name == name, limit=1)
        return rows[0] if rows else None


class UserFileRepository(Repository[FileRecord]):
    """A user's own files (no flow), under the model's declared scope: their owner's in the
    tenant, or every owner's for the tenant's administrators."""

    model = FileRecord
    label = "file"

    def scoped(self, stmt: Select[Any]) -> Select[Any]:
        return super().scoped(stmt).where(_NO_FLOW)

    def _mine(self) -> Any:
        # Langflow's file list and name clashes are one user's: the view, not the access.
        owner = self.scope.user_id
        return FileRecord.user_id.is_(None) if owner is None else FileRecord.user_id == owner

    async def mine(self) -> list[FileRecord]:
        return await self.list(self._mine(), order_by=(FileRecord.created_at, FileRecord.id))

    async def some(self, file_ids: Sequence[str]) -> list[FileRecord]:
        if not file_ids:
            return []
        return await self.list(
            FileRecord.id.in_(list(file_ids)), order_by=(FileRecord.created_at, FileRecord.id)
        )

    async def mine_named(self, name: str) -> FileRecord | None:
        rows = await self.list(
            self._mine(), FileRecord.name == name, order_by=(FileRecord.created_at,), limit=1
        )
        return rows[0] if rows else None

    async def my_names(self, prefix: str) -> set[str]:
        """Names of the caller's files that start with `prefix`."""
        rows = await self.list(self._mine(), FileRecord.name.startswith(prefix, autoescape=True))
        return {r.name for r in rows}
