"""Users, tokens and API keys."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool

from flowdeck.schemas.base import Schema


class Token(Schema):
    access_token: str
    refresh_token: str | None = None
    token_type: str = "bearer"


class UserCreate(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=200)
    is_superuser: StrictBool = False
    is_active: StrictBool = True
    tenant_id: UUID | None = None


class UserUpdate(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(None, min_length=1, max_length=150)
    password: str | None = Field(None, min_length=1, max_length=200)
    is_active: StrictBool | None = None
    is_superuser: StrictBool | None = None
    profile_image: str | None = None
    nickname: str | None = None
    email: str | None = None


class PasswordReset(Schema):
    password: str = Field(min_length=1, max_length=200)


class UserRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    tenant_id: UUID
    is_active: bool
    is_superuser: bool
    profile_image: str | None = None
    nickname: str | None = None
    email: str | None = None
    create_at: datetime | None = Field(None, validation_alias="created_at")
    updated_at: datetime | None = None
    last_login_at: datetime | None = None


class UsersPage(Schema):
    total_count: int
    users: list[UserRead]


class ApiKeyCreate(Schema):
    name: str | None = Field(None, max_length=200)


class ApiKeyRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str | None
    api_key: str = Field(validation_alias="key_preview")
    created_at: datetime
    last_used_at: datetime | None
    total_uses: int
    is_active: bool
    user_id: int


class ApiKeyCreated(ApiKeyRead):
    api_key: str  # the whole key, shown this once


class ApiKeysPage(Schema):
    total_count: int
    user_id: int
    api_keys: list[ApiKeyRead]
