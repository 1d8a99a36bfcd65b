"""Stored components, their groups and versions, with the seed's field names (Component group)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool, computed_field

from flowdeck.engine.components.stored import DeclarationError, declaration
from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import Id

ComponentType = Literal["component", "bundle"]
# A stored component's name is the node type flows use: an identifier-like word.
ComponentName = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
]
_Name = Annotated[str, Field(min_length=1, max_length=128)]
_Short = Annotated[str, Field(max_length=128)]
_Note = Annotated[str, Field(max_length=2000)]
_Code = Annotated[str, Field(max_length=1_000_000)]


class Scope(IntEnum):
    """Who a group or component is for: the whole tenant, or one business in it."""

    TENANT = 1
    BUSINESS = 2


class Audit(Schema):
    model_config = ConfigDict(from_attributes=True)

    c_uid: int | None
    m_uid: int | None
    ctime: datetime
    utime: datetime


class GroupCreate(Schema):
    group_name: _Name
    group_en_name: _Name
    component_type: ComponentType
    icon: _Short | None = None
    tags: list[_Short] | None = Field(None, max_length=64)
    order_num: Id = 0
    is_active: StrictBool = True
    note: _Note | None = None
    scope: Scope = Scope.TENANT
    business_id: Id | None = None


class GroupUpdate(Schema):
    group_name: _Name | None = None
    group_en_name: _Name | None = None
    icon: _Short | None = None
    tags: list[_Short] | None = Field(None, max_length=64)
    order_num: Id | None = None
    is_active: StrictBool | None = None
    note: _Note | None = None
    scope: Scope | None = None
    business_id: Id | None = None


class GroupRead(Audit):
    group_id: int
    group_name: str
    group_en_name: str
    component_type: str
    icon: str | None
    tags: list[str] | None
    order_num: int
    is_active: bool
    note: str | None
    scope: int
    business_id: int | None


class ComponentCreate(Schema):
    component_group_id: Id
    component_name: ComponentName | None = Field(
        None, description="the node type flows use; by default derived from display_name"
    )
    display_name: _Name | None = None
    icon: _Short | None = None
    tag: _Short | None = ""
    code: _Code | None = None
    component_skill: _Code | None = None
    note: _Note | None = None
    version_note: _Note | None = None
    is_active: StrictBool = True
    is_legacy: StrictBool = False
    is_deprecated: StrictBool = False
    scope: Scope = Scope.TENANT
    business_id: Id | None = None


class ComponentUpdate(Schema):
    component_group_id: Id | None = None
    component_name: ComponentName | None = None
    display_name: _Name | None = None
    icon: _Short | None = None
    tag: _Short | None = None
    code: _Code | None = None
    component_skill: _Code | None = None
    note: _Note | None = None
    version_note: _Note | None = None
    is_active: StrictBool | None = None
    is_legacy: StrictBool | None = None
    is_deprecated: StrictBool | None = None
    scope: Scope | None = None
    business_id: Id | None = None


def _ports(code: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not code:
        return [], []
    try:
        found = declaration(code)
    except DeclarationError:
        return [], []  # stored before a rule changed: readable, not runnable
    return [i.describe() for i in found.inputs], [o.describe() for o in found.outputs]


class ComponentRead(Audit):
    component_id: str
    component_group_id: int
    component_name: str
    display_name: str | None
    icon: str | None
    tag: str
    code: str | None
    component_skill: str | None
    note: str | None
    version: int
    version_note: str | None
    is_active: bool
    is_legacy: bool
    is_deprecated: bool
    scope: int
    business_id: int | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def inputs(self) -> list[dict[str, Any]]:
        """The inputs the code declares (what a flow's node of this type takes)."""
        return _ports(self.code)[0]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outputs(self) -> list[dict[str, Any]]:
        return _ports(self.code)[1]


class VersionRead(Audit):
    id: int
    component_id: str
    version: int
    code: str
    version_note: str | None


class VersionList(Schema):
    items: list[VersionRead]
