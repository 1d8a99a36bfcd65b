"""Retention: drop the oldest monitor records and finished runs beyond the configured limits.

- `monitor_retention` (N): each flow keeps its newest N messages, its newest N vertex builds
  and its newest N transactions (per flow and per kind, like Langflow's
  max_vertex_builds_to_keep / max_transactions_to_keep but counted per flow, so one busy flow
  cannot push out the history of the others).
- `run_retention` (N): the newest N finished runs (completed, failed, cancelled) are kept, all
  tenants together, ordered by creation time. Queued, running, paused and waiting runs are never
  deleted, whatever their age.

Each kind is one `DELETE ... WHERE id IN (subquery)` in its own short transaction, so a pass
holds SQLite's write lock only briefly. Running it from several processes at once is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from flowdeck.db.models import MessageRecord, Transaction, VertexBuild
from flowdeck.db.repositories.monitor import MonitorModel, RetentionRepository

if TYPE_CHECKING:
    from flowdeck.services.container import Services

log = logging.getLogger("flowdeck.retention")

DEFAULT_INTERVAL = 600.0
MONITOR_KINDS: dict[str, MonitorModel] = {
    "messages": MessageRecord,
    "vertex_builds": VertexBuild,
    "transactions": Transaction,
}


async def prune(
    services: Services, *, monitor_limit: int | None = None, run_limit: int | None = None
) -> dict[str, int]:
    """One retention pass; how many rows of each kind were deleted.

    The limits default to the settings; tests and maintenance commands may pass their own.
    """
    keep_records = services.settings.monitor_retention if monitor_limit is None else monitor_limit
    keep_runs = services.settings.run_retention if run_limit is None else run_limit
    if keep_records < 0 or keep_runs < 0:
        raise ValueError("retention limits cannot be negative")
    deleted: dict[str, int] = {}
    for kind, model in MONITOR_KINDS.items():
        async with services.db.session() as session:
            deleted[kind] = await RetentionRepository(session).prune_per_flow(model, keep_records)
    async with services.db.session() as session:
        deleted["runs"] = await RetentionRepository(session).prune_runs(keep_runs)
    if any(deleted.values()):
        log.info("retention pass deleted %s", deleted)
    return deleted


class RetentionTask:
    """Runs `prune` every `interval` seconds in the background, until stopped."""

    def __init__(self, services: Services, interval: float = DEFAULT_INTERVAL) -> None:
        if interval <= 0:
            raise ValueError("the retention interval must be positive")
        self.services = services
        self.interval = interval
        self.passes = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._loop(), name="flowdeck-retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        # The first pass waits one interval: a starting server has better things to do.
        while True:
            await asyncio.sleep(self.interval)
            try:
                await prune(self.services)
            except Exception:  # a failed pass must not end the task; the next one retries
                log.exception("retention pass failed")
            self.passes += 1
