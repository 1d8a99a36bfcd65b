"""A tenant's configs and dictionary, with the seed's field names."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id


class Audit(Schema):
    model_config = ConfigDict(from_attributes=True)

    c_uid: int | None
    m_uid: int | None
    ctime: datetime
    utime: datetime


class ConfigCreate(Schema):
    config_key: str = Field(min_length=1, max_length=128)
    config_name: str = Field(min_length=1, max_length=64)
    config_value: str = Field(max_length=65_536)
    note: str | None = Field(None, max_length=2000)


class ConfigUpdate(Schema):
    config_name: str | None = Field(None, min_length=1, max_length=64)
    config_value: str | None = Field(None, max_length=65_536)
    note: str | None = Field(None, max_length=2000)


class ConfigRead(Audit):
    id: int
    config_key: str
    config_name: str
    config_value: str
    note: str | None


class IndexCreate(Schema):
    config_key: str = Field(min_length=1, max_length=128)
    config_name: str = Field(min_length=1, max_length=64)
    config_en_name: str = Field(min_length=1, max_length=64)
    note: str | None = Field("", max_length=2000)


class IndexUpdate(Schema):
    config_name: str | None = Field(None, min_length=1, max_length=64)
    config_en_name: str | None = Field(None, min_length=1, max_length=64)
    note: str | None = Field(None, max_length=2000)


class ItemCreate(IndexCreate):
    key_order: Id = 0
    config_value: str = Field(min_length=1, max_length=65_536)


class ItemUpdate(IndexUpdate):
    key_order: Id | None = None
    config_value: str | None = Field(None, min_length=1, max_length=65_536)


class DictEntryRead(Audit):
    config_key: str
    config_name: str
    config_en_name: str
    key_order: int
    parent_id: int
    config_value: str
    note: str | None
    config_id: int
