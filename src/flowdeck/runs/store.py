"""Where run records live: the interface, and an in-memory implementation for tests."""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from flowdeck.db.base import NewRow, new_id, utcnow
from flowdeck.db.models import Run
from flowdeck.runs.states import UNFINISHED

# (worker name, attempt): a write fenced by it applies only while that worker holds that attempt,
# so a worker that lost its lease cannot overwrite the retry that replaced it.
Fence = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Increment:
    """A change that adds to a column's stored value, in the same statement (no read first)."""

    by: int = 1


class RunStore(Protocol):
    """Durable run records. Every method returns once its write is committed."""

    async def create(self, run: Run) -> None: ...

    async def get(self, run_id: str) -> Run | None: ...

    async def update(
        self,
        run_id: str,
        changes: dict[str, Any],
        *,
        from_states: Collection[str] | None = None,
        fence: Fence | None = None,
    ) -> Run | None:
        """Apply `changes` if the run is in one of `from_states`; the new record, else None."""

    async def finish(
        self,
        run_id: str,
        changes: dict[str, Any],
        records: list[NewRow],
        fence: Fence | None = None,
    ) -> Run | None:
        """Apply a terminal change and store the run's monitor records, in one transaction."""

    async def unfinished(self) -> list[Run]:
        """Runs not yet in a terminal state (for recovery after a restart)."""


class MemoryRunStore:
    """RunStore in a dict: the fake shipped for tests and for engine-only hosts."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.records: list[NewRow] = []

    async def create(self, run: Run) -> None:
        now = utcnow()
        run.id = run.id or new_id()
        run.created_at = run.created_at or now
        run.updated_at = now
        self.runs[run.id] = run

    async def get(self, run_id: str) -> Run | None:
        run = self.runs.get(run_id)
        return copy.copy(run) if run is not None else None

    async def update(
        self,
        run_id: str,
        changes: dict[str, Any],
        *,
        from_states: Collection[str] | None = None,
        fence: Fence | None = None,
    ) -> Run | None:
        run = self.runs.get(run_id)
        if run is None or (from_states is not None and run.state not in from_states):
            return None
        if fence is not None and (run.worker, run.attempts) != fence:
            return None
        for key, value in changes.items():
            if isinstance(value, Increment):
                value = (getattr(run, key) or 0) + value.by
            setattr(run, key, value)
        run.updated_at = utcnow()
        return copy.copy(run)

    async def finish(
        self,
        run_id: str,
        changes: dict[str, Any],
        records: list[NewRow],
        fence: Fence | None = None,
    ) -> Run | None:
        run = await self.update(run_id, changes, from_states=UNFINISHED, fence=fence)
        if run is not None:
            self.records.extend(records)
        return run

    async def unfinished(self) -> list[Run]:
        return [copy.copy(r) for r in self.runs.values() if r.state in UNFINISHED]
