"""The run store on SQL (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import insert, select, update

from flowdeck.db.base import Base, new_id, utcnow
from flowdeck.db.database import Database
from flowdeck.db.models import Run
from flowdeck.runs.states import UNFINISHED
from flowdeck.runs.store import Fence

_RUN_COLUMNS = tuple(c.key for c in Run.__table__.columns)


class SqlRunStore:
    """RunStore over the application database, with Core statements on the hot path."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, run: Run) -> None:
        now = utcnow()
        run.id = run.id or new_id()
        values = {k: getattr(run, k) for k in _RUN_COLUMNS}
        values["created_at"] = values["created_at"] or now
        values["updated_at"] = now
        for key, default in (
            ("steps", []),
            ("logs", []),
            ("tags", []),
            ("meta", {}),
            ("request", {}),
            ("progress", 0.0),
            ("attempts", 0),
        ):
            if values[key] is None:
                values[key] = default
        async with self.db.session() as session:
            await session.execute(insert(Run).values(**values))
        run.created_at, run.updated_at = values["created_at"], now

    async def get(self, run_id: str) -> Run | None:
        async with self.db.session() as session:
            return await session.get(Run, run_id)

    async def update(
        self,
        run_id: str,
        changes: dict[str, Any],
        *,
        from_states: Collection[str] | None = None,
        fence: Fence | None = None,
    ) -> Run | None:
        async with self.db.session() as session:
            return await self._update(session, run_id, changes, from_states, fence)

    async def finish(
        self, run_id: str, changes: dict[str, Any], records: list[Base], fence: Fence | None = None
    ) -> Run | None:
        async with self.db.session() as session:
            run = await self._update(session, run_id, changes, UNFINISHED, fence)
            if run is not None and records:
                session.add_all(records)
            return run

    @staticmethod
    async def _update(
        session: Any,
        run_id: str,
        changes: dict[str, Any],
        from_states: Collection[str] | None,
        fence: Fence | None = None,
    ) -> Run | None:
        stmt = (
            update(Run)
            .where(Run.id == run_id)
            .values(**changes, updated_at=utcnow())
            .returning(Run)
            .execution_options(synchronize_session=False)
        )
        if from_states is not None:
            stmt = stmt.where(Run.state.in_([str(s) for s in from_states]))
        if fence is not None:
            stmt = stmt.where(Run.worker == fence[0], Run.attempts == fence[1])
        result = await session.execute(stmt)
        return result.scalar_one_or_none()  # type: ignore[no-any-return]

    async def unfinished(self) -> list[Run]:
        async with self.db.session() as session:
            result = await session.execute(
                select(Run).where(Run.state.in_([s.value for s in UNFINISHED]))
            )
            return list(result.scalars())
