"""What the run store's raw writers share: the queued write, and its UPDATE rendered per shape.

A run's updates come in a handful of shapes (which columns, whether a state or worker
condition applies, which monitor tables a finish writes to), so each shape's SQL is rendered
once from the table definition and then reused with new arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from flowdeck.db.base import NewRow, group_rows, utcnow
from flowdeck.runs.store import Fence, Increment

# Shapes are few; a bound keeps odd ones from piling up.
MAX_SHAPES = 512


@dataclass(slots=True)
class WriteOp:
    """One queued write: a create (values), or a conditional update (+ records on finish)."""

    run_id: str
    values: dict[str, Any]
    create: bool = False
    from_states: Sequence[str] | None = None
    fence: Fence | None = None
    records: list[NewRow] = field(default_factory=list)


@dataclass(slots=True)
class UpdatePlan:
    """An update's shape (the key of its SQL), its named arguments, and its records."""

    shape: tuple[Any, ...]
    args: dict[str, Any]
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]]


def plan_update(op: WriteOp, param: Callable[[str, Any], Any]) -> UpdatePlan:
    """The update `op` asks for, `updated_at` included; `param` converts a column's value."""
    values = dict(op.values)
    values["updated_at"] = utcnow()
    groups = group_rows(op.records)
    shape = (
        tuple((k, isinstance(v, Increment)) for k, v in values.items()),
        op.from_states is not None,
        op.fence is not None,
        tuple((table.name, cols) for table, cols in groups),
    )
    args: dict[str, Any] = {
        f"v_{k}": v.by if isinstance(v, Increment) else param(k, v) for k, v in values.items()
    }
    args["run_id"] = op.run_id
    if op.from_states is not None:
        args["states"] = list(op.from_states)
    if op.fence is not None:
        args["f_worker"], args["f_attempts"] = op.fence
    return UpdatePlan(shape, args, groups)


class Params:
    """Numbered placeholders (`$1` for asyncpg, `?1` for sqlite3) and the names they stand for."""

    def __init__(self, mark: str) -> None:
        self.mark = mark
        self.names: list[str] = []

    def __call__(self, name: str, cast: str = "") -> str:
        self.names.append(name)
        return f"{self.mark}{len(self.names)}{cast}"


def render_update(
    table: Table,
    shape: tuple[Any, ...],
    params: Params,
    in_states: Callable[[str], str],
    returning: str = "*",
) -> str:
    """UPDATE table SET ... WHERE id = ... [AND state in ...] [AND the fence] RETURNING ..."""
    keys, states, fence, _ = shape
    sets = ", ".join(
        f'"{k}" = "{k}" + {params(f"v_{k}")}' if add else f'"{k}" = {params(f"v_{k}")}'
        for k, add in keys
    )
    where = [f"id = {params('run_id')}"]
    if states:
        where.append(in_states(params("states")))
    if fence:
        where.append(f"worker = {params('f_worker')} AND attempts = {params('f_attempts')}")
    return f"UPDATE {table.name} SET {sets} WHERE {' AND '.join(where)} RETURNING {returning}"


def render_insert(table: Table, columns: Sequence[str], mark: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f"{mark}{i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {table.name} ({names}) VALUES ({values})"
