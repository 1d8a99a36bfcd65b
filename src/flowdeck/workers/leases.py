"""Leases: workers renew them for the runs they hold; a reaper recovers runs whose lease lapsed."""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from flowdeck.db.base import utcnow
from flowdeck.db.database import Database
from flowdeck.db.models import Flow, Run
from flowdeck.errors import InvalidStateError
from flowdeck.runs.service import RunService
from flowdeck.runs.states import RunState, on_hold
from flowdeck.runs.tasks import stop_task
from flowdeck.workers.runner import RunWorker

if TYPE_CHECKING:
    from flowdeck.runs.redis_bus import RedisEventBus

log = logging.getLogger("flowdeck.leases")

Dispatch = Callable[[Run], Awaitable[None]]
_ACTIVE = [s.value for s in RunState if s.active]
# A finished run whose end is still unannounced this long after it was stored is announced
# by the reaper: by then the process that stored it would long since have done so.
ANNOUNCE_AFTER = 30.0
_CHUNK = 500


class _Periodic(ABC):
    """A coroutine run every `interval` seconds until stopped; failures are logged, not fatal."""

    interval: float
    _task: asyncio.Task[None] | None = None

    @abstractmethod
    async def tick(self) -> None:
        """One round of the periodic work."""

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", type(self).__name__)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=type(self).__name__)

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None


class LeaseKeeper(_Periodic):
    """Renews this worker's leases; a run whose lease was taken over is stopped here."""

    def __init__(self, db: Database, worker: RunWorker, lease_seconds: float) -> None:
        self.db = db
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.interval = lease_seconds / 3

    async def tick(self) -> None:
        # The controls as they are now: while the renewal runs, a run retried after its lease
        # lapsed may be claimed here again, and that new attempt's control is not the one
        # the renewal speaks of.
        held = dict(self.worker.controls)
        if not held:
            return
        until = utcnow() + timedelta(seconds=self.lease_seconds)
        async with self.db.session() as session:
            result = await session.execute(
                update(Run)
                .where(Run.id.in_(held), Run.worker == self.worker.name, Run.state.in_(_ACTIVE))
                .values(lease_until=until)
                .returning(Run.id)
                .execution_options(synchronize_session=False)
            )
            renewed = set(result.scalars())
        for run_id, control in held.items():
            if run_id in renewed or control.cancel_reason is not None:
                continue
            if self.worker.controls.get(run_id) is control:
                self.worker.lost.add(run_id)
            log.warning("run %s is no longer held by %s; stopping it", run_id, self.worker.name)
            control.cancel("the run was taken over by another worker")


class Reaper(_Periodic):
    """Retries (or fails) runs whose worker stopped renewing their lease; resends lost messages.

    Every process may run one: each change is a conditional transition, so one process wins.
    """

    def __init__(
        self,
        db: Database,
        runs: RunService,
        dispatch: Dispatch,
        *,
        lease_seconds: float,
        max_attempts: int,
        requeue_after: float,
        bus: RedisEventBus | None = None,
    ) -> None:
        self.db = db
        self.runs = runs
        self.dispatch = dispatch
        self.bus = bus
        self.max_attempts = max_attempts
        self.requeue_after = requeue_after
        self.interval = max(0.5, lease_seconds / 2)

    async def tick(self) -> None:
        await self.reap_expired()
        await self.resend_stale()
        await self.announce_lost_ends()

    async def reap_expired(self) -> int:
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Run.id, Run.state, Run.attempts, Run.worker).where(
                        Run.state.in_(_ACTIVE), Run.lease_until < utcnow()
                    )
                )
            ).all()
        for run_id, state, attempts, worker in rows:
            expect = [RunState(state)]
            try:
                if (attempts or 0) < self.max_attempts:
                    run = await self.runs.transition(
                        run_id,
                        RunState.QUEUED,
                        expect=expect,
                        changes={"worker": None, "lease_until": None, "waiting_on": None},
                    )
                    log.warning("run %s: worker %s lost; retrying", run_id, worker)
                    await self.dispatch(run)
                else:
                    await self.runs.transition(
                        run_id,
                        RunState.FAILED,
                        expect=expect,
                        changes={
                            "error": f"worker {worker} stopped during attempt {attempts} of "
                            f"{self.max_attempts}; not retried"
                        },
                    )
            except InvalidStateError:
                continue  # another process got there first, or the run moved on
        return len(rows)

    async def resend_stale(self) -> int:
        """Queued runs nobody picked up (a message lost with a process) are sent again."""
        cutoff = utcnow() - timedelta(seconds=self.requeue_after)
        paused = select(Flow.id).where(Flow.id == Run.flow_id, Flow.deployment_status == "paused")
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Run.id, Run.meta).where(
                        Run.state == RunState.QUEUED.value,
                        Run.updated_at < cutoff,
                        or_(Run.flow_id.is_(None), ~paused.exists()),
                    )
                )
            ).all()
            ids = [run_id for run_id, meta in rows if not on_hold(meta)]
            if not ids:
                return 0
            # Touching them restarts the clock, so each is sent again at most once a period.
            stale = list(
                (
                    await session.execute(
                        update(Run)
                        .where(Run.id.in_(ids), Run.state == RunState.QUEUED.value)
                        .values(updated_at=utcnow())
                        .returning(Run)
                        .execution_options(synchronize_session=False)
                    )
                ).scalars()
            )
        for run in stale:
            await self.dispatch(run)
        return len(stale)

    async def announce_lost_ends(self) -> int:
        """Runs stored as finished whose end never reached the event bus: announced now.

        A process killed between storing a run's end and publishing it leaves readers of
        that run waiting; exactly one reaper (the one that claims it) publishes the end.
        """
        if self.bus is None:
            return 0
        ids = await self.bus.unended(ANNOUNCE_AFTER)
        cutoff = utcnow() - timedelta(seconds=ANNOUNCE_AFTER)
        announced = 0
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            async with self.db.read_sessions() as session:
                found = (
                    await session.execute(
                        select(Run.id, Run.state, Run.finished_at).where(Run.id.in_(chunk))
                    )
                ).all()
            known = {run_id for run_id, _, _ in found}
            for run_id in set(chunk) - known:  # deleted: nothing left to announce
                await self.bus.claim_unended(run_id)
            for run_id, state, finished_at in found:
                if not RunState(state).terminal or finished_at is None or finished_at >= cutoff:
                    continue
                if await self.bus.claim_unended(run_id):
                    log.warning("run %s: its end was never announced; announcing it", run_id)
                    await self.runs.announce_end(await self.runs.get(run_id))
                    announced += 1
        return announced
