"""Queries of a declared resource: the model's scope, the resource's rules, search and sort."""

from __future__ import annotations

from typing import Any, Generic

from sqlalchemy import Select, func, or_, select

from flowdeck.db.repositories.base import Repository
from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.resources.declaration import Context, M, Resource

_REPOSITORIES: dict[tuple[type[Any], str], type[Repository[Any]]] = {}


def _repository_class(model: type[Any], label: str) -> type[Repository[Any]]:
    """One Repository subclass per model: the model's declared scope applies as for any."""
    cls = _REPOSITORIES.get((model, label))
    if cls is None:
        name = f"{model.__name__}ResourceRepository"
        cls = _REPOSITORIES[(model, label)] = type(
            name, (Repository,), {"model": model, "label": label}
        )
    return cls


def rows_of(ctx: Context, model: type[Any]) -> Repository[Any]:
    """A repository of `model` in the caller's scope, for a hook's queries on other rows."""
    return _repository_class(model, model.__tablename__)(ctx.session, ctx.principal.scope)


class ResourceRepository(Generic[M]):
    def __init__(self, ctx: Context, resource: Resource[M], parent: Any = None) -> None:
        self.ctx = ctx
        self.resource = resource
        self.parent = parent
        rows = _repository_class(resource.model, resource.label)
        self.rows: Repository[M] = rows(ctx.session, ctx.principal.scope)

    async def check_parent(self) -> None:
        """A missing parent, or one of another tenant, is 404 like a missing row."""
        model = self.resource.parent_model
        if model is None:
            return
        parents = _repository_class(model, "parent")
        pk = model.__mapper__.primary_key[0]
        stmt = parents(self.ctx.session, self.ctx.principal.scope).scoped(
            select(pk).where(pk == self.parent)
        )
        if self.resource.parent_filter is not None:
            stmt = stmt.where(self.resource.parent_filter)
        if self.resource.parent_visible is not None:
            stmt = self.resource.parent_visible(self.ctx, stmt)
        if (await self.ctx.session.execute(stmt)).first() is None:
            field = self.resource.parent_field
            raise NotFoundError(f"{field} {self.parent} not found", field=field)

    def _id_column(self) -> Any:
        return getattr(self.resource.model, self.resource.id_attr)

    def visible(self, stmt: Select[Any]) -> Select[Any]:
        stmt = self.resource.hooks.visible(self.ctx, self.rows.scoped(stmt))
        if self.resource.parent_attr is not None and self.parent is not None:
            stmt = stmt.where(
                getattr(self.resource.model, self.resource.parent_attr) == self.parent
            )
        return stmt

    def _column(self, ref: Any) -> Any:
        return getattr(self.resource.model, ref) if isinstance(ref, str) else ref

    def _columns(self, values: dict[str, Any]) -> dict[str, Any]:
        rename = self.resource.columns
        return {rename.get(key, key): value for key, value in values.items()}

    async def page(
        self,
        search: str | None,
        sort_by: str | None,
        descending: bool,
        skip: int = 0,
        limit: int | None = None,
        filters: tuple[Any, ...] = (),
    ) -> tuple[list[M], int]:
        """One page of what the caller may see, and how many rows that is in all."""
        stmt = self.visible(select(self.resource.model)).where(*filters)
        for target, onclause in self.resource.joins:
            stmt = stmt.join(target, onclause)
        if search and self.resource.search:
            pattern = f"%{search}%"
            stmt = stmt.where(or_(*(self._column(a).ilike(pattern) for a in self.resource.search)))
        total_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
        total = int((await self.ctx.session.execute(total_stmt)).scalar_one())
        key = sort_by or self.resource.default_sort
        if key:
            if key not in self.resource.sort:
                raise InvalidInputError(f"cannot sort by {key!r}", field="sort_by")
            column = self._column(self.resource.sort[key])
            stmt = stmt.order_by(column.desc() if descending else column.asc())
        stmt = stmt.order_by(self._id_column())
        if skip:
            stmt = stmt.offset(skip)
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = list((await self.ctx.session.execute(stmt)).scalars())
        return rows, total

    async def get(self, item_id: Any, conditions: tuple[Any, ...] = ()) -> M:
        stmt = self.visible(select(self.resource.model)).where(self._id_column() == item_id)
        stmt = stmt.where(*conditions)
        row: M | None = (await self.ctx.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            label = self.resource.label
            raise NotFoundError(f"{label} {item_id} not found", field=self.resource.id_field)
        return row

    async def create(self, values: dict[str, Any]) -> M:
        values = self._columns(await self.resource.hooks.before_write(self.ctx, values, None))
        if self.resource.parent_attr is not None:
            values = {**values, self.resource.parent_attr: self.parent}
        if self.resource.audit:
            values = {**values, "c_uid": self.ctx.principal.user.id}
            values["m_uid"] = values["c_uid"]
        row = await self.rows.create(**values)
        await self.resource.hooks.after_create(self.ctx, row)
        await self.resource.hooks.after_change(self.ctx)
        await self.ctx.session.refresh(row)  # server defaults and eager relationships, loaded
        return row

    async def update(self, row: M, values: dict[str, Any]) -> M:
        values = self._columns(await self.resource.hooks.before_write(self.ctx, values, row))
        if self.resource.audit:
            values = {**values, "m_uid": self.ctx.principal.user.id}
        row = await self.rows.update(row, values)
        await self.resource.hooks.after_change(self.ctx)
        await self.ctx.session.refresh(row)
        return row

    async def delete(self, row: M) -> None:
        await self.resource.hooks.before_delete(self.ctx, row)
        await self.rows.delete(row)
        await self.resource.hooks.after_change(self.ctx)

    async def delete_many(self, ids: list[Any]) -> int:
        stmt = self.visible(select(self.resource.model)).where(self._id_column().in_(ids))
        rows = list((await self.ctx.session.execute(stmt)).scalars())
        for row in rows:
            await self.resource.hooks.before_delete(self.ctx, row)
            await self.rows.delete(row)
        if rows:
            await self.resource.hooks.after_change(self.ctx)
        return len(rows)
