"""Database integrity errors as domain errors naming the field, for SQLite and PostgreSQL.

The API maps every `IntegrityError` here, once: a unique clash is a conflict, a missing
reference or a missing value is an input the client must change. SQLite names the columns of
unique and NOT NULL failures but not of a foreign key, so that one is found from the statement.
A value PostgreSQL cannot store (`DataError`: too long for its column, out of range) is an
input to change as well; SQLite stores such values as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from flowdeck.db.base import Base
from flowdeck.errors import ConflictError, FlowdeckError, UnprocessableError

# Columns that scope a unique key (whose row, in which tenant) rather than say what clashed.
SCOPE_COLUMNS = frozenset({"tenant_id", "user_id", "flow_id"})

_PG_KEY = re.compile(r"Key \((?P<cols>[^)]+)\)=")
_PG_TABLE = re.compile(r'table "(?P<table>[^"]+)"')
_PG_COLUMN = re.compile(r'column "(?P<col>[^"]+)"')
_SQLITE_COLS = re.compile(r"constraint failed: (?P<cols>.+)$")
_INSERT = re.compile(r'^\s*INSERT\s+INTO\s+"?(?P<table>\w+)"?\s*\((?P<cols>[^)]*)\)', re.I)
_UPDATE = re.compile(
    r'^\s*UPDATE\s+"?(?P<table>\w+)"?\s+SET\s+(?P<sets>.+?)\s+WHERE\s', re.I | re.S
)


def translate(exc: IntegrityError) -> FlowdeckError:
    """The domain error for a constraint the database refused."""
    orig = exc.orig
    cause = getattr(orig, "__cause__", None)
    pg = cause if getattr(cause, "sqlstate", None) else orig  # asyncpg's, behind SQLAlchemy's
    state = str(getattr(pg, "sqlstate", "") or "")
    message = str(orig)
    if state == "23505" or "UNIQUE constraint failed" in message:
        return _unique(_columns(pg, message))
    if state == "23502" or "NOT NULL constraint failed" in message:
        field = _not_null_column(pg, message)
        return UnprocessableError(f"{field} must not be null", field=field, constraint="not_null")
    if state == "23503" or "FOREIGN KEY constraint failed" in message:
        return _foreign_key(pg, exc)
    if state == "23514" or "CHECK constraint failed" in message:
        return UnprocessableError("a value is out of its allowed range", constraint="check")
    return ConflictError("the change conflicts with data already stored")


# SQLSTATE class 22 (data exception): what the value was wrong about.
_DATA_PROBLEMS = {
    "22001": "a value is longer than its field allows",
    "22003": "a number is out of the range its field allows",
    "22007": "a date or time is not valid",
    "22P02": "a value is not valid for its field's type",
}


def translate_data(exc: DBAPIError) -> FlowdeckError | None:
    """The domain error for a value the database cannot store; None for other failures
    (a lost connection is the server's problem, not the request's)."""
    cause = getattr(exc.orig, "__cause__", None)
    pg = cause if getattr(cause, "sqlstate", None) else exc.orig
    state = str(getattr(pg, "sqlstate", "") or "")
    if not state.startswith("22") and not isinstance(exc, DataError):
        return None
    problem = _DATA_PROBLEMS.get(state, "a value cannot be stored")
    column = getattr(pg, "column_name", None)
    return UnprocessableError(
        f"{problem} ({column})" if column else problem,
        field=str(column) if column else None,
        constraint="data",
    )


def _unique(columns: list[str]) -> ConflictError:
    named = [c for c in columns if c not in SCOPE_COLUMNS] or columns
    field = ", ".join(named) or None
    what = f"{field} is already in use" if field else "the value is already in use"
    return ConflictError(what, field=field, constraint="unique")


def _columns(pg: Any, message: str) -> list[str]:
    """The columns of a unique key: asyncpg's detail, or SQLite's `table.col, table.col`."""
    detail = str(getattr(pg, "detail", "") or "")
    if m := _PG_KEY.search(detail):
        return [c.strip().strip('"') for c in m.group("cols").split(",")]
    if m := _SQLITE_COLS.search(message.splitlines()[0] if message else ""):
        return [c.strip().rsplit(".", 1)[-1] for c in m.group("cols").split(",")]
    return []


def _not_null_column(pg: Any, message: str) -> str | None:
    column = getattr(pg, "column_name", None)
    if column:
        return str(column)
    if m := _PG_COLUMN.search(message):
        return m.group("col")
    cols = _columns(pg, message)
    return cols[0] if cols else None


def _foreign_key(pg: Any, exc: IntegrityError) -> FlowdeckError:
    detail = str(getattr(pg, "detail", "") or "")
    statement = exc.statement or ""
    if "still referenced" in detail or statement.lstrip().upper().startswith("DELETE"):
        table = m.group("table") if (m := _PG_TABLE.search(detail)) else None
        by = f" by {table}" if table else ""
        return ConflictError(f"the record is still referenced{by}", constraint="foreign_key")
    if m := _PG_KEY.search(detail):
        field: str | None = m.group("cols").strip().strip('"')
    else:
        field = _sqlite_reference(statement, exc.params)
    what = field or "a reference"
    return UnprocessableError(
        f"{what} names a record that does not exist", field=field, constraint="foreign_key"
    )


def _sqlite_reference(statement: str, params: Any) -> str | None:
    """The foreign-key column(s) an INSERT or UPDATE set to a value (SQLite does not say)."""
    if m := _INSERT.match(statement):
        table, cols = m.group("table"), [c.strip().strip('"') for c in m.group("cols").split(",")]
    elif m := _UPDATE.match(statement):
        table = m.group("table")
        cols = [s.split("=", 1)[0].strip().strip('"') for s in m.group("sets").split(",")]
    else:
        return None
    found = Base.metadata.tables.get(table)
    if found is None:
        return None
    keys = {fk.parent.name for fk in found.foreign_keys}
    values = params[0] if isinstance(params, list) and params else params
    set_values: Sequence[Any] = values if isinstance(values, tuple | list) else ()
    candidates = [
        col
        for i, col in enumerate(cols)
        if col in keys and (i >= len(set_values) or set_values[i] is not None)
    ]
    return ", ".join(candidates) or None
