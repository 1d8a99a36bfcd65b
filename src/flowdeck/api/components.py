"""Component types: Langflow's catalogue (`/api/v1/all`) and the tenant's stored components
(the seed's Component group: groups, components with custom code, their versions)."""

from __future__ import annotations

import gzip
import inspect
from collections.abc import Iterable, Mapping
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import Query, Request, Response
from sqlalchemy import select

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.db.models import ComponentGroup, CustomComponent
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep, ListFilter, mount
from flowdeck.schemas.common import Id, QueryBool
from flowdeck.schemas.components import (
    ComponentCreate,
    ComponentRead,
    ComponentUpdate,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    VersionList,
    VersionRead,
)
from flowdeck.services.businesses import in_subtrees
from flowdeck.services.component_types import (
    component_types,
    component_types_encoded,
    langflow_node,
)
from flowdeck.services.components import (
    active_components,
    component_after_create,
    component_before_write,
    component_class,
    group_before_delete,
    group_before_write,
    versions_of,
)

router = guarded_router(prefix="/api/v1", tags=["Component"])

GROUPS = Resource(
    label="component group",
    path="/components/groups",
    module=Module.COMPONENTS,
    model=ComponentGroup,
    read=GroupRead,
    create=GroupCreate,
    update=GroupUpdate,
    id_field="group_id",
    id_attr="group_id",
    id_type=int,
    sort={"order_num": "order_num", "group_name": "group_name", "ctime": "ctime"},
    default_sort="order_num",
    search=("group_name", "group_en_name", "note"),
    search_param="keyword",
    hooks=Hooks(before_write=group_before_write, before_delete=group_before_delete),
)

COMPONENTS = Resource(
    label="component",
    path="/components",
    module=Module.COMPONENTS,
    model=CustomComponent,
    read=ComponentRead,
    create=ComponentCreate,
    update=ComponentUpdate,
    id_field="component_id",
    id_attr="component_id",
    id_type=UUID,
    sort={
        "ctime": "ctime",
        "utime": "utime",
        "component_name": "component_name",
        "display_name": "display_name",
        "tag": "tag",
        "version": "version",
    },
    default_sort="ctime",
    default_order="desc",
    search=("component_name", "display_name", "note", "tag"),
    search_param="keyword",
    hooks=Hooks(before_write=component_before_write, after_create=component_after_create),
)


def _equal(column: Any) -> Any:
    def condition(_ctx: Context, value: Any) -> Any:
        return None if value is None else column == value

    return condition


def _flag(column: Any) -> Any:
    def condition(_ctx: Context, only: Any) -> Any:
        return column.is_(True) if only else None

    return condition


def _placed(model: Any) -> Any:
    """`scope` and `business_id`, ignored with `all_scopes`; a business's subtree with
    `include_sub_businesses`."""

    def where(_ctx: Context, params: Mapping[str, Any]) -> Iterable[Any]:
        if params.get("all_scopes"):
            return []
        found = []
        if params.get("scope") is not None:
            found.append(model.scope == params["scope"])
        business = params.get("business_id")
        if business is not None and params.get("include_sub_businesses"):
            found.append(in_subtrees(model.business_id, [business]))
        elif business is not None:
            found.append(model.business_id == business)
        return found

    return where


def _of_type(_ctx: Context, value: Any) -> Any:
    if value is None:
        return None
    groups = select(ComponentGroup.group_id).where(ComponentGroup.component_type == value)
    return CustomComponent.component_group_id.in_(groups)


_Opt = Annotated[str | None, Query(max_length=128)]
_PLACEMENT = {
    "scope": ListFilter(Id | None, None),
    "business_id": ListFilter(Id | None, None),
    "all_scopes": ListFilter(QueryBool, False),
    "include_sub_businesses": ListFilter(QueryBool, False),
}


def _addressed(model: Any) -> dict[str, ListFilter]:
    """The seed addresses one row with its `scope` (required) and `business_id`."""
    return {
        "scope": ListFilter(Id, inspect.Parameter.empty, _equal(model.scope)),
        "business_id": ListFilter(Id | None, None, _equal(model.business_id)),
    }


mount(
    router,
    GROUPS,
    {
        "component_type": ListFilter(_Opt, None, _equal(ComponentGroup.component_type)),
        **_PLACEMENT,
        "is_active": ListFilter(QueryBool | None, None, _equal(ComponentGroup.is_active)),
    },
    where=_placed(ComponentGroup),
    item_filters=_addressed(ComponentGroup),
)
mount(
    router,
    COMPONENTS,
    {
        "component_type": ListFilter(_Opt, None, _of_type),
        "component_group_id": ListFilter(
            Id | None, None, _equal(CustomComponent.component_group_id)
        ),
        **_PLACEMENT,
        "is_active": ListFilter(QueryBool | None, None, _equal(CustomComponent.is_active)),
        "is_deprecated": ListFilter(QueryBool | None, None, _equal(CustomComponent.is_deprecated)),
        "is_legacy": ListFilter(QueryBool | None, None, _equal(CustomComponent.is_legacy)),
        "tag": ListFilter(_Opt, None, _equal(CustomComponent.tag)),
        "deprecated_only": ListFilter(QueryBool, False, _flag(CustomComponent.is_deprecated)),
        "legacy_only": ListFilter(QueryBool, False, _flag(CustomComponent.is_legacy)),
    },
    where=_placed(CustomComponent),
    item_filters=_addressed(CustomComponent),
)


@both(router, "GET", "/components/{component_id}/versions", response_model=VersionList)
@requires(Module.COMPONENTS, Op.READ)
async def get_component_versions(
    ctx: ContextDep,
    component_id: UUID,
    scope: Id,
    business_id: Id | None = None,
) -> VersionList:
    """Every version of the component's code, the newest first."""
    conditions = [CustomComponent.scope == scope]
    if business_id is not None:
        conditions.append(CustomComponent.business_id == business_id)
    row = await ResourceRepository(ctx, COMPONENTS).get(str(component_id), tuple(conditions))
    versions = await versions_of(ctx, row)
    return VersionList(items=[VersionRead.model_validate(v) for v in versions])


def accepts_gzip(request: Request) -> bool:
    return any(
        part.split(";")[0].strip() == "gzip"
        for part in request.headers.get("accept-encoding", "").split(",")
    )


@both(router, "GET", "/all", response_model=None)
@requires(Module.COMPONENTS, Op.READ)
async def get_all(request: Request, ctx: ContextDep) -> Response:
    """Every component type in Langflow's node shape, `{category: {type: node}}`, with the
    tenant's stored components under their group's category; gzip-encoded for clients that
    accept it (the built-in part is computed and compressed once per process)."""
    registry = ctx.services.engine.registry
    stored = [
        (row, cls)
        for row, group in await active_components(ctx)
        if (cls := component_class(row, group)) is not None
    ]
    if not stored:
        plain, packed = component_types_encoded(registry)
    else:
        merged = {cat: dict(types) for cat, types in component_types(registry).items()}
        for row, cls in stored:
            node = langflow_node(cls)
            node["metadata"] = {
                **node["metadata"],
                "component_id": row.component_id,
                "version": row.version,
            }
            node["icon"] = row.icon or node["icon"]
            node["legacy"] = row.is_legacy
            merged.setdefault(cls.category, {})[cls.type_name] = node
        plain = orjson.dumps(merged)
        packed = gzip.compress(plain, 6, mtime=0) if accepts_gzip(request) else b""
    headers = {"Vary": "Accept-Encoding"}
    if accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="application/json", headers=headers)
    return Response(plain, media_type="application/json", headers=headers)
