"""Permission modules, their privileges, roles and role privileges (the seed's shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, StrictBool

from flowdeck.schemas.base import Schema

PrivOperationType = Literal["READ", "WRITE", "MODIFY", "DELETE"]


class ModuleRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    module_id: str
    module_name: str
    is_sys: bool
    c_uid: int | None
    m_uid: int | None
    ctime: datetime
    utime: datetime


class ModulePrivCreate(Schema):
    priv_id: str = Field(min_length=1, max_length=128)
    priv_name: str = Field(min_length=1, max_length=128)
    is_sys_priv: StrictBool
    priv_opr_type: PrivOperationType = "READ"


class ModulePrivUpdate(Schema):
    priv_name: str | None = Field(None, min_length=1, max_length=128)
    is_sys_priv: StrictBool | None = None
    priv_opr_type: PrivOperationType | None = None


class ModulePrivRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    module_id: str
    priv_id: str
    priv_name: str
    is_sys_priv: bool
    priv_opr_type: PrivOperationType
    c_uid: int | None
    m_uid: int | None
    ctime: datetime
    utime: datetime


class RoleCreate(Schema):
    role_id: str | None = Field(None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    role_name: str = Field(min_length=1, max_length=128)


class RoleUpdate(Schema):
    role_name: str | None = Field(None, min_length=1, max_length=128)


class RoleRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    role_id: str
    role_name: str
    is_sys_role: bool


class RolePrivCreate(Schema):
    module_id: str = Field(min_length=1, max_length=64)
    priv_id: str = Field(min_length=1, max_length=64)


class RolePrivRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    role_id: str
    module_id: str
    module_name: str
    priv_id: str
    priv_name: str
    is_sys_priv: bool
    priv_opr_type: PrivOperationType
    c_uid: int | None
    ctime: datetime
