"""A tenant's configs and its dictionary (the seed's Configs and Dictionary groups)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select

from flowdeck.access.catalog import Module
from flowdeck.access.guard import guarded_router
from flowdeck.db.models import Config, DictEntry
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.repository import rows_of
from flowdeck.resources.routes import mount
from flowdeck.schemas.configs import (
    ConfigCreate,
    ConfigRead,
    ConfigUpdate,
    DictEntryRead,
    IndexCreate,
    IndexUpdate,
    ItemCreate,
    ItemUpdate,
)

router = guarded_router(prefix="/api/v1", tags=["Configs"])
dictionary_router = guarded_router(prefix="/api/v1/dictionary", tags=["Dictionary"])

CONFIGS = Resource(
    label="config",
    path="/configs",
    module=Module.CONFIGS,
    model=Config,
    read=ConfigRead,
    create=ConfigCreate,
    update=ConfigUpdate,
    id_field="config_id",
    id_type=int,
    sort={
        "id": "id",
        "config_key": "config_key",
        "config_name": "config_name",
        "config_value": "config_value",
    },
    default_sort="config_key",
    search=("config_key", "config_name", "config_value"),
)
mount(router, CONFIGS)


def _indexes(_ctx: Context, stmt: Select[Any]) -> Select[Any]:
    return stmt.where(DictEntry.parent_id == 0)


def _items(_ctx: Context, stmt: Select[Any]) -> Select[Any]:
    return stmt.where(DictEntry.parent_id != 0)


async def _with_items(ctx: Context, row: Any) -> None:
    # An index goes with its items, those the caller's scope holds.
    items = rows_of(ctx, DictEntry).scoped(
        select(DictEntry.config_id).where(DictEntry.parent_id == row.config_id)
    )
    await ctx.session.execute(delete(DictEntry).where(DictEntry.config_id.in_(items)))


_ENTRY_SORT = {
    "config_key": "config_key",
    "config_name": "config_name",
    "config_en_name": "config_en_name",
}
INDEXES = Resource(
    label="dictionary index",
    path="/indexes",
    module=Module.DICTIONARY,
    model=DictEntry,
    read=DictEntryRead,
    create=IndexCreate,
    update=IndexUpdate,
    id_field="index_id",
    id_attr="config_id",
    id_type=int,
    sort=_ENTRY_SORT,
    default_sort="config_key",
    search=("config_key", "config_name", "config_en_name"),
    hooks=Hooks(visible=_indexes, before_delete=_with_items),
)
ITEMS = Resource(
    label="dictionary item",
    path="/indexes/{index_id}/items",
    item_prefix="/items",
    module=Module.DICTIONARY,
    model=DictEntry,
    read=DictEntryRead,
    create=ItemCreate,
    update=ItemUpdate,
    id_field="item_id",
    id_attr="config_id",
    id_type=int,
    parent_field="index_id",
    parent_attr="parent_id",
    parent_model=DictEntry,
    parent_type=int,
    parent_filter=DictEntry.parent_id == 0,
    sort={"key_order": "key_order", **_ENTRY_SORT, "config_value": "config_value"},
    default_sort="config_key",
    search=("config_key", "config_name", "config_en_name", "config_value"),
    hooks=Hooks(visible=_items),
)
mount(dictionary_router, ITEMS)
mount(dictionary_router, INDEXES)
