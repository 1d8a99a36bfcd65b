"""Files: a flow's files (v1) and a user's files (v2), in the seed's shapes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from flowdeck.db.models import FileRecord
from flowdeck.schemas.base import Schema


class FlowFileUploaded(Schema):
    """What `POST /api/v1/files/upload/{flow_id}` answers (Langflow's field names)."""

    flowId: str  # Langflow's spelling
    file_path: str


class FlowFileList(Schema):
    files: list[str]


class Message(Schema):
    message: str


class Detail(Schema):
    detail: str


class FilesDeleted(Schema):
    """Outcome of deleting many user files; a file whose content could not go is kept."""

    message: str
    files_deleted: int = 0
    files_kept: int = 0


class ProfilePictures(Schema):
    files: list[str] = Field(default_factory=list)


class UserFileRead(Schema):
    """A user's file. `name` has no extension (Langflow v2); `path` is `<user_id>/<stored>`."""

    id: str
    tenant_id: UUID
    business_id: int | None = None
    is_self: bool = True
    user_id: int | None
    c_uid: int | None = None
    m_uid: int | None = None
    name: str
    path: str
    size: int
    provider: str | None = None
    content_type: str | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: FileRecord, caller_id: int | None) -> UserFileRead:
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            is_self=row.user_id == caller_id,
            user_id=row.user_id,
            # Only a file's owner may upload or change it, so the owner made both.
            c_uid=row.user_id,
            m_uid=row.user_id,
            name=row.name,
            path=row.path,
            size=row.size,
            content_type=row.content_type,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
