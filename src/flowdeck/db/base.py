"""Declarative base and the columns most tables share."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A random (version 4) UUID as text: uuid.uuid4's value, built without the UUID object."""
    n = int.from_bytes(os.urandom(16))
    n = (n & ~(0xC000 << 48) | 0x8000 << 48) & ~(0xF000 << 64) | 4 << 76
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class RowScope(StrEnum):
    """Who may see a model's rows; each model declares one, and repositories apply it."""

    GLOBAL = "global"  # the same rows for every tenant (modules, privileges, system roles)
    TENANT = "tenant"  # rows of one tenant, shared by everyone acting in it
    TENANT_OWNER = "tenant_owner"  # rows of one tenant that their owner (or its admins) sees
    # As TENANT_OWNER, and also the rows of the businesses (`business_id`) where the caller's
    # business roles grant the privilege the route declares, sub-businesses included.
    BUSINESS_TREE = "business_tree"
    # Rows that say how far they are shared, in their `scope` column (a Reach): every tenant,
    # the tenant, a business (seen as BUSINESS_TREE rows are) or their owner alone.
    SHARED = "shared"


class Reach(StrEnum):
    """How far a SHARED row is shared."""

    SYSTEM = "system"  # every tenant; written by platform superusers
    TENANT = "tenant"  # everyone acting in its tenant
    BUSINESS = "business"  # its business's tree, its owner and the tenant's administrators
    PERSONAL = "personal"  # its owner alone


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, always read back aware in UTC, on every database.

    SQLite keeps no offset (its text drops it and reads come back naive); PostgreSQL's
    timestamptz does. Values are stored in UTC, a naive one taken as UTC already, so text
    comparisons on SQLite order as time does. Every DateTime column uses this type.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
    # Declared by every model (tests/unit/db checks it): nothing is inferred from columns.
    __scope__: ClassVar[RowScope]
    # Rows carry `deleted_at` and are hidden once it is set.
    __soft_delete__: ClassVar[bool] = False


B = TypeVar("B", bound=Base)


@dataclass(slots=True)
class NewRow:
    """The values of one row to insert, without an ORM instance: cheap where rows are many.

    Columns left out take their defaults when the row is inserted.
    """

    model: type[Base]
    values: dict[str, Any]


def group_rows(records: list[NewRow]) -> dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]]:
    """Rows to insert by table and column set, each with its Python-side column defaults."""
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for record in records:
        table: Table = record.model.__table__  # type: ignore[assignment]
        values = with_defaults(table, record.values)
        groups.setdefault((table, tuple(values)), []).append(values)
    return groups


# Per table: (column, how its default is made, the default) for columns a row may leave out.
_COLUMN_DEFAULTS: dict[Table, list[tuple[str, str, Any]]] = {}


def with_defaults(table: Table, given: dict[str, Any]) -> dict[str, Any]:
    """`given` plus the Python-side default of every column it leaves out or sets to None."""
    defaults = _COLUMN_DEFAULTS.get(table)
    if defaults is None:
        defaults = _COLUMN_DEFAULTS[table] = []
        for col in table.columns:
            default = col.default
            if default is not None and getattr(default, "is_callable", False):
                defaults.append((col.key, "call", default.arg))  # type: ignore[attr-defined]
            elif default is not None and getattr(default, "is_scalar", False):
                defaults.append((col.key, "value", default.arg))  # type: ignore[attr-defined]
            elif col.server_default is not None:
                defaults.append((col.key, "server", None))  # left out: the database fills it
            else:
                defaults.append((col.key, "value", None))
    values = dict(given)
    for key, how, arg in defaults:
        if values.get(key) is None:
            if how == "server":
                values.pop(key, None)
            else:
                values[key] = arg(None) if how == "call" else arg
    return values


def quick_instance(model: type[B], values: dict[str, Any]) -> B:
    """A transient instance holding `values`, made without an attribute event per value.

    What `model(**values)` gives, at a fraction of its cost: for rows made on every run.
    """
    if model.__mapper__.configured is False:
        configure_mappers()  # what the first `model(...)` would have done
    obj: B = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Owned:
    """Rows a user owns inside a tenant; every query on them filters by both."""

    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )


def uuid_pk() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)
