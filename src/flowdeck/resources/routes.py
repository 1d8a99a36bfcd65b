"""Routes of a declared resource: list, read, create, update, delete and batch delete.

Endpoints are built from the declaration; their signatures are set explicitly so FastAPI
validates and documents each resource's own schemas, sort keys and id type.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from flowdeck.access.catalog import Op
from flowdeck.access.declare import requires
from flowdeck.api.deps import PrincipalDep, ServicesDep, SessionDep
from flowdeck.api.paths import both
from flowdeck.resources.declaration import Context, Resource
from flowdeck.resources.repository import ResourceRepository
from flowdeck.schemas.common import Count, DeletedCount, Id, IntIds, SortOrder, StrIds

P = inspect.Parameter


async def resource_context(
    session: SessionDep, principal: PrincipalDep, services: ServicesDep
) -> Context:
    return Context(session, principal, services)


ContextDep = Annotated[Context, Depends(resource_context)]


@dataclass(frozen=True, slots=True)
class ListFilter:
    """A query parameter of the resource's own: its type, default and condition.

    Without a condition the parameter is only read by the `where` given to `mount`, which
    sees every parameter at once (a flag that widens or replaces another's condition).
    """

    annotation: Any
    default: Any
    condition: Callable[[Context, Any], Any] | None = None  # a WHERE clause, or None

    def applied(self, ctx: Context, value: Any) -> Any:
        """This parameter's WHERE clause for `value`, or None."""
        return None if self.condition is None else self.condition(ctx, value)


Where = Callable[[Context, Mapping[str, Any]], Iterable[Any]]


def _conditions(
    ctx: Context, filters: Mapping[str, ListFilter], where: Where | None, params: dict[str, Any]
) -> tuple[Any, ...]:
    found = [c for key, f in filters.items() if (c := f.applied(ctx, params.get(key))) is not None]
    if where is not None:
        found.extend(where(ctx, {key: params.get(key) for key in filters}))
    return tuple(found)


def _endpoint(
    resource: Resource[Any], fn: Callable[..., Any], params: list[inspect.Parameter], returns: Any
) -> Any:
    fn.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    fn.__resource__ = resource  # type: ignore[attr-defined]
    return fn


def resource_of(endpoint: Callable[..., Any]) -> Resource[Any] | None:
    """The declaration a mounted endpoint serves: the resource contract tests walk them."""
    found: Resource[Any] | None = getattr(endpoint, "__resource__", None)
    return found


def _param(name: str, annotation: Any, default: Any = P.empty) -> inspect.Parameter:
    return P(name, P.KEYWORD_ONLY, annotation=annotation, default=default)


def mount(
    router: APIRouter,
    resource: Resource[Any],
    filters: Mapping[str, ListFilter] | None = None,
    *,
    where: Where | None = None,
    item_filters: Mapping[str, ListFilter] | None = None,
) -> None:
    """Serve `resource` on `router`: every route declares its privilege on the module.

    `filters` are the list's own query parameters (`where` adds conditions from all of them);
    `item_filters` are query parameters of the routes on one row, which a row must match
    too (else 404, like a missing row).
    """
    filters = filters or {}
    item_filters = item_filters or {}
    name = resource.model.__name__
    ctx_param = _param("ctx", ContextDep)
    # The parent's id (a nested resource) comes before the resource's own in every path.
    scope_params = [ctx_param]
    if resource.parent_field is not None:
        kind = Id if resource.parent_type is int else str
        parent = Annotated[kind, Path(min_length=1, max_length=128)] if kind is str else kind
        scope_params.append(_param(resource.parent_field, parent))
    own_id = _param(resource.id_field, Annotated[_id_type(resource), Path()])
    id_params = [ctx_param, own_id] if resource.item_prefix else [*scope_params, own_id]
    id_params += [_param(key, f.annotation, f.default) for key, f in item_filters.items()]

    async def repo(ctx: Context, params: dict[str, Any]) -> ResourceRepository[Any]:
        if resource.parent_field is None or resource.parent_field not in params:
            return ResourceRepository(ctx, resource)
        rows = ResourceRepository(ctx, resource, params[resource.parent_field])
        await rows.check_parent()
        return rows

    def item_id(params: dict[str, Any]) -> Any:
        return _key(params[resource.id_field])

    async def one(ctx: Context, rows: ResourceRepository[Any], params: dict[str, Any]) -> Any:
        return await rows.get(item_id(params), _conditions(ctx, item_filters, None, params))

    async def list_items(ctx: Context, **params: Any) -> list[Any]:
        conditions = _conditions(ctx, filters, where, params)
        rows, _ = await (await repo(ctx, params)).page(
            params.get(resource.search_param),
            params.get("sort_by"),
            params.get("sort_order") == "desc",
            params.get("skip") or 0,
            params.get("limit"),
            conditions,
        )
        return rows

    sort_keys: Any = (
        StrEnum(f"{name}SortBy", {k: k for k in resource.sort}) if resource.sort else str
    )
    list_params = [
        *scope_params,
        _param(resource.search_param, Annotated[str | None, Query(max_length=200)], None),
        _param("sort_by", sort_keys | None, resource.default_sort or None),
        _param("sort_order", SortOrder, resource.default_order),
        _param("skip", Annotated[Count, Query()], 0),
        _param("limit", Annotated[int | None, Query(ge=1, le=1000)], None),
        *(_param(key, f.annotation, f.default) for key, f in filters.items()),
    ]
    list_items.__doc__ = f"The {resource.label}s the caller may see."
    both(router, "GET", resource.path, response_model=_list_of(resource.read), name=f"list_{name}")(
        requires(resource.module, Op.READ)(_endpoint(resource, list_items, list_params, list[Any]))
    )

    async def read_item(ctx: Context, **params: Any) -> Any:
        return await one(ctx, await repo(ctx, params), params)

    both(router, "GET", resource.item_path, response_model=resource.read, name=f"read_{name}")(
        requires(resource.module, Op.READ)(_endpoint(resource, read_item, id_params, Any))
    )

    if resource.create is not None:

        async def create_item(ctx: Context, body: Any, **params: Any) -> Any:
            return await (await repo(ctx, params)).create(body.model_dump())

        params = [*scope_params, _param("body", _body(resource.create))]
        both(
            router,
            "POST",
            resource.path,
            response_model=resource.read,
            status_code=201,
            name=f"create_{name}",
        )(requires(resource.module, Op.WRITE)(_endpoint(resource, create_item, params, Any)))

    if resource.update is not None:

        async def update_item(ctx: Context, body: Any, **params: Any) -> Any:
            rows = await repo(ctx, params)
            row = await one(ctx, rows, params)
            return await rows.update(row, body.model_dump(exclude_unset=True))

        params = [*id_params, _param("body", _body(resource.update))]
        both(
            router,
            "PATCH",
            resource.item_path,
            response_model=resource.read,
            name=f"update_{name}",
        )(requires(resource.module, Op.MODIFY)(_endpoint(resource, update_item, params, Any)))

    async def delete_item(ctx: Context, **params: Any) -> Response:
        rows = await repo(ctx, params)
        await rows.delete(await one(ctx, rows, params))
        return Response(status_code=204)

    both(router, "DELETE", resource.item_path, status_code=204, name=f"delete_{name}")(
        requires(resource.module, Op.DELETE)(_endpoint(resource, delete_item, id_params, None))
    )

    if resource.batch_remove:
        ids_type = IntIds if resource.id_type is int else StrIds

        async def delete_items(ctx: Context, body: Any, **params: Any) -> DeletedCount:
            count = await (await repo(ctx, params)).delete_many(list(body.ids))
            return DeletedCount(deleted_count=count)

        params = [*scope_params, _param("body", _body(ids_type))]
        both(
            router,
            "POST",
            f"{resource.path}/batch-remove",
            response_model=DeletedCount,
            name=f"delete_many_{name}",
        )(
            requires(resource.module, Op.DELETE)(
                _endpoint(resource, delete_items, params, DeletedCount)
            )
        )


def _id_type(resource: Resource[Any]) -> Any:
    if resource.id_type is int:
        return Id
    if resource.id_type is UUID:
        return UUID
    return Annotated[str, Path(min_length=1, max_length=128)]


def _key(value: Any) -> Any:
    # Ids are stored as text: a uuid from the path is compared as its canonical string.
    return str(value) if isinstance(value, UUID) else value


def _list_of(model: Any) -> Any:
    return list[model]


def _body(model: Any) -> Any:
    return Annotated[model, Body()]
