"""The rules of stored components and their groups: checks on save, versions, lookups.

A component's code is checked when it is saved (it parses and declares its inputs and
outputs: `engine.components.stored.declaration`, nothing is run); each new code is kept as
a numbered version. Runs find a component by name in their own tenant (`StoredLookup`).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, select

from flowdeck.db.database import Database
from flowdeck.db.fast_read import FastReader
from flowdeck.db.models import ComponentGroup, ComponentVersion, CustomComponent
from flowdeck.engine.components.base import Component
from flowdeck.engine.components.stored import DeclarationError, declaration, stored_component
from flowdeck.errors import ConflictError, NotFoundError, UnprocessableError
from flowdeck.resources.declaration import Context
from flowdeck.resources.repository import rows_of
from flowdeck.schemas.components import Scope
from flowdeck.services.businesses import in_tenant

# Columns that hold no null: a null sent on an update leaves them as they are.
_GROUP_REQUIRED = ("group_name", "group_en_name", "order_num", "is_active", "scope")
_COMPONENT_REQUIRED = (
    "component_group_id",
    "component_name",
    "is_active",
    "is_legacy",
    "is_deprecated",
    "scope",
)
_WORD = re.compile(r"[A-Za-z0-9]+")


def checked_code(code: str) -> None:
    """422 naming `code` (and the line) when the code declares no usable component."""
    try:
        declaration(code)
    except DeclarationError as exc:
        raise UnprocessableError(f"code: {exc}", field="code", line=exc.line) from None


def name_from(display_name: str | None) -> str:
    """A node type name from a display name: "Shout it" -> "ShoutIt"."""
    words = _WORD.findall(display_name or "")
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or not name[0].isalpha():
        raise UnprocessableError(
            "component_name is required (or a display_name starting with a letter)",
            field="component_name",
        )
    return name[:128]


def _without_nulls(values: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None or k not in required}


async def _placement(ctx: Context, values: dict[str, Any], row: Any) -> None:
    """A business-scoped row names one of this tenant's businesses."""
    business = values.get("business_id", getattr(row, "business_id", None))
    if values.get("business_id") is not None:
        await in_tenant(ctx.session, ctx.principal.tenant_id, values["business_id"])
    if values.get("scope", getattr(row, "scope", Scope.TENANT)) == Scope.BUSINESS and (
        business is None
    ):
        raise UnprocessableError("scope 2 (a business) needs its business_id", field="business_id")


async def group_before_write(ctx: Context, values: dict[str, Any], row: Any) -> dict[str, Any]:
    values = _without_nulls(values, _GROUP_REQUIRED)
    await _placement(ctx, values, row)
    return values


async def group_before_delete(ctx: Context, row: ComponentGroup) -> None:
    held = await ctx.session.execute(
        select(func.count())
        .select_from(CustomComponent)
        .where(CustomComponent.component_group_id == row.group_id)
    )
    count = int(held.scalar_one())
    if count:
        raise ConflictError(
            f"component group {row.group_id} still holds {count} component(s)", field="group_id"
        )


async def component_before_write(
    ctx: Context, values: dict[str, Any], row: CustomComponent | None
) -> dict[str, Any]:
    values = _without_nulls(values, _COMPONENT_REQUIRED)
    if row is None:
        values["component_name"] = values.get("component_name") or name_from(
            values.get("display_name")
        )
        values["tag"] = values.get("tag") or ""
    elif "tag" in values and values["tag"] is None:
        values["tag"] = ""
    name = values.get("component_name")
    if name is not None and name in ctx.services.engine.registry:
        raise ConflictError(
            f"{name!r} is a built-in component type; a stored component needs another name",
            field="component_name",
        )
    if "component_group_id" in values:
        groups = rows_of(ctx, ComponentGroup)
        stmt = groups.scoped(select(ComponentGroup.group_id)).where(
            ComponentGroup.group_id == values["component_group_id"]
        )
        if (await ctx.session.execute(stmt)).first() is None:
            raise NotFoundError(
                f"component group {values['component_group_id']} not found",
                field="component_group_id",
            )
    await _placement(ctx, values, row)
    code = values.get("code")
    if code:
        checked_code(code)
    if row is not None and code is not None and code != row.code:
        values["version"] = row.version + 1
        _keep_version(ctx, row.component_id, values["version"], code, values.get("version_note"))
    elif row is None:
        values["version"] = 1 if code else 0
    return values


async def component_after_create(ctx: Context, row: CustomComponent) -> None:
    if row.code:
        _keep_version(ctx, row.component_id, row.version, row.code, row.version_note)
        await ctx.session.flush()


def _keep_version(
    ctx: Context, component_id: str, version: int, code: str, note: str | None
) -> None:
    user = ctx.principal.user.id
    ctx.session.add(
        ComponentVersion(
            tenant_id=ctx.principal.tenant_id,
            component_id=component_id,
            version=version,
            code=code,
            version_note=note,
            c_uid=user,
            m_uid=user,
        )
    )


async def versions_of(ctx: Context, component: CustomComponent) -> list[ComponentVersion]:
    """Every version of the component's code, the newest first."""
    stmt = (
        rows_of(ctx, ComponentVersion)
        .scoped(select(ComponentVersion))
        .where(ComponentVersion.component_id == component.component_id)
        .order_by(ComponentVersion.version.desc())
    )
    return list((await ctx.session.execute(stmt)).scalars())


async def active_components(
    ctx: Context,
) -> list[tuple[CustomComponent, ComponentGroup]]:
    """The tenant's components a flow may use now (active, in an active group, with code)."""
    both = cast("Select[Any]", select(CustomComponent, ComponentGroup))
    stmt = (
        rows_of(ctx, CustomComponent)
        .scoped(both)
        .join(ComponentGroup, ComponentGroup.group_id == CustomComponent.component_group_id)
        .where(CustomComponent.is_active.is_(True), CustomComponent.code.is_not(None))
        .order_by(CustomComponent.component_name)
    )
    return [(c, g) for c, g in (await ctx.session.execute(stmt)).all()]


def component_class(row: CustomComponent, group: ComponentGroup) -> type[Component] | None:
    """The engine's class for a stored component; None if its code declares none now."""
    return _made(
        (row.component_name, row.code or "", row.display_name, row.note, group.group_en_name)
    )


def _made(values: tuple[Any, ...]) -> type[Component] | None:
    name, code, display_name, note, category = values
    try:
        return stored_component(
            name,
            code or "",
            display_name=display_name or name,
            description=note or "",
            category=category,
        )
    except DeclarationError:
        return None


# What a stored component's class is made of, for one name in one tenant (a unique pair).
_BY_NAME = (
    select(
        CustomComponent.component_name,
        CustomComponent.code,
        CustomComponent.display_name,
        CustomComponent.note,
        ComponentGroup.group_en_name,
    )
    .join(ComponentGroup, ComponentGroup.group_id == CustomComponent.component_group_id)
    .where(
        CustomComponent.tenant_id == bindparam("tid"),
        CustomComponent.component_name == bindparam("name"),
        CustomComponent.is_active.is_(True),
        CustomComponent.code.is_not(None),
    )
)


class StoredLookup:
    """Stored components by name in a run's tenant (the engine's `Registries.components`).

    Every lookup reads the rows, so an edit, a deactivation or a removal shows in the next
    run. A class is kept by the values it is made of: an unchanged component gives the same
    class again, its code not parsed again, and the graph cache keeps graphs compiled with it.
    """

    def __init__(self, db: Database, size: int = 256) -> None:
        self.size = size
        self._reader = FastReader(db, "flowdeck-component-reader")
        self._classes: OrderedDict[tuple[Any, ...], type[Component] | None] = OrderedDict()

    async def components(self, tenant_id: str, names: Collection[str]) -> list[type[Component]]:
        found: list[type[Component]] = []
        for name in sorted(names):
            for row in await self._reader.rows(_BY_NAME, {"tid": tenant_id, "name": name}):
                cls = self._class(row)
                if cls is not None:
                    found.append(cls)
        return found

    def _class(self, values: tuple[Any, ...]) -> type[Component] | None:
        if values in self._classes:
            self._classes.move_to_end(values)
            return self._classes[values]
        cls = self._classes[values] = _made(values)
        if len(self._classes) > self.size:
            self._classes.popitem(last=False)
        return cls
