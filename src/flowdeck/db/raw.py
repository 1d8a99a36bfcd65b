"""Statements sent on the driver's own connection, for the few that run on every request or run.

SQLAlchemy's per-call work (cache keys, execution contexts, parameter and row processing)
costs more than the round trip to a local database. These helpers keep SQLAlchemy's
table definitions and type processing, done once, and skip the rest. PostgreSQL's own
connections are in `flowdeck.db.pg` (asyncpg is imported only where PostgreSQL is used).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class RawQuery:
    """A statement compiled once for one dialect: its SQL and the order of its parameters.

    Only for statements whose parameters need no conversion (text, numbers): a parameter
    of a type the dialect converts (dates, JSON) is refused when the query is built.
    """

    def __init__(self, stmt: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
        for name, bind in compiled.binds.items():
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise ValueError(f"parameter {name!r} needs conversion; use SQLAlchemy")
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(params[name] for name in self.names)


class Processors:
    """A table's per-column conversions between Python values and a dialect's driver."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.columns = tuple(c.key for c in table.columns)
        self.bind: dict[str, Callable[[Any], Any]] = {}
        self.result: list[tuple[str, Callable[[Any], Any] | None]] = []
        for col in table.columns:
            impl = col.type.dialect_impl(dialect)
            bind = impl.bind_processor(dialect)
            if bind is not None:
                self.bind[col.key] = bind
            self.result.append((col.key, impl.result_processor(dialect, None)))

    def param(self, key: str, value: Any) -> Any:
        convert = self.bind.get(key)
        return value if convert is None or value is None else convert(value)

    def row(self, values: tuple[Any, ...]) -> dict[str, Any]:
        """A row (every column, in table order) as Python values by column."""
        return {
            key: value if convert is None or value is None else convert(value)
            for (key, convert), value in zip(self.result, values, strict=True)
        }
