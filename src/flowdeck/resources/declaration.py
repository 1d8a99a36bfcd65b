"""What a resource is: its model, schemas, privileges module, sorting, searching and rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.access.catalog import Module
from flowdeck.access.principal import Principal
from flowdeck.db.base import Base

M = TypeVar("M", bound=Base)


@dataclass(frozen=True, slots=True)
class Context:
    """One request's view of a resource: who acts, and the transaction to act in."""

    session: AsyncSession
    principal: Principal
    services: Any


Visible = Callable[[Context, Select[Any]], Select[Any]]
BeforeWrite = Callable[[Context, dict[str, Any], Any], Awaitable[dict[str, Any]]]
BeforeDelete = Callable[[Context, Any], Awaitable[None]]
AfterChange = Callable[[Context], Awaitable[None]]
AfterCreate = Callable[[Context, Any], Awaitable[None]]


async def _keep(_ctx: Context, values: dict[str, Any], _row: Any) -> dict[str, Any]:
    return values


async def _allow(_ctx: Context, _row: Any) -> None:
    return None


async def _nothing(_ctx: Context) -> None:
    return None


async def _created(_ctx: Context, _row: Any) -> None:
    return None


def _all(_ctx: Context, stmt: Select[Any]) -> Select[Any]:
    return stmt


@dataclass(frozen=True, slots=True)
class Hooks:
    """A resource's own rules, beside the scope its model declares.

    `visible` narrows what a caller sees (every read, update and delete goes through it);
    `before_write` checks or completes the values of a create (row None) or an update;
    `before_delete` may refuse a delete; `after_create` completes a new row once it has its
    id; `after_change` runs after any write (in the same transaction), e.g. to drop cached
    principals when roles change.
    """

    visible: Visible = _all
    before_write: BeforeWrite = _keep
    before_delete: BeforeDelete = _allow
    after_create: AfterCreate = _created
    after_change: AfterChange = _nothing


@dataclass(frozen=True, slots=True)
class Resource(Generic[M]):
    """A declaration: `mount(router, resource)` serves it (flowdeck.resources.routes)."""

    label: str  # in messages: "tenant 42 not found"
    path: str  # the collection's path, below the router's prefix ("/tenants")
    module: Module
    model: type[M]
    read: type[BaseModel]
    create: type[BaseModel] | None
    update: type[BaseModel] | None
    id_field: str  # the id's name in paths and bodies ("tenant_id")
    id_attr: str = "id"  # the model attribute holding it
    id_type: type = str
    # sort_by value -> the model's attribute name, or a column of a joined model
    sort: Mapping[str, Any] = field(default_factory=dict)
    default_sort: str = ""
    search: tuple[Any, ...] = ()  # attributes (or joined columns) a `search` text is sought in
    search_param: str = "search"  # the list's query parameter holding that text ("keyword")
    default_order: str = "asc"  # the list's sort_order when none is given
    joins: tuple[tuple[Any, Any], ...] = ()  # (model, on clause) joined for sort and search
    # API field name -> model attribute, where the seed's names differ from the columns'.
    columns: Mapping[str, str] = field(default_factory=dict)
    # A resource nested under another: the parent's id in the path ({parent_field}) limits
    # every query to its rows and is set on every row created there.
    parent_field: str | None = None
    parent_attr: str | None = None
    parent_model: type[Base] | None = None  # a missing parent is 404, like a missing row
    parent_type: type = str
    parent_filter: Any = None  # what a row of parent_model must also be to be a parent
    # The parent's own resource rule (its `visible` hook): a parent the caller may not see
    # through its own resource is not one to list or change the children of either.
    parent_visible: Visible | None = None
    hooks: Hooks = field(default_factory=Hooks)
    batch_remove: bool = False  # POST {path}/batch-remove {"ids": [...]} -> deleted_count
    # The model has the seed's audit fields: c_uid and m_uid are set from the caller.
    audit: bool = True
    # Where one row is addressed, when not below `path` (then without the parent's id):
    # the seed lists an index's items below it but changes each at /dictionary/items/{id}.
    item_prefix: str | None = None

    @property
    def item_path(self) -> str:
        return f"{self.item_prefix or self.path}/{{{self.id_field}}}"
