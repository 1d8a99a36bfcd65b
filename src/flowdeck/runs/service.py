"""The run service: creates runs, changes their state (in one place), and controls them."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any, Protocol

from flowdeck.db.base import NewRow, utcnow
from flowdeck.db.models import Run
from flowdeck.engine import events as ev
from flowdeck.errors import InvalidStateError, NotFoundError
from flowdeck.observability import metrics
from flowdeck.runs import feed
from flowdeck.runs.bus import EventBus
from flowdeck.runs.states import ALLOWED, RunState
from flowdeck.runs.store import Fence, RunStore


class ControlChannel(Protocol):
    """Carries cancel / pause / resume / answer to whichever worker holds a run."""

    async def control(self, run_id: str, command: str, payload: Any = None) -> None: ...


class RunService:
    """Every run state change goes through `transition`, which stores it and emits `state`."""

    def __init__(self, store: RunStore, bus: EventBus) -> None:
        self.store = store
        self.bus = bus
        self.channel: ControlChannel | None = None
        # Callers waiting in this process for a run's end: resolved with the final record.
        self._watchers: dict[str, list[asyncio.Future[Run]]] = {}

    async def create(self, run: Run) -> Run:
        """Store a new run: QUEUED, or RUNNING if a local worker claimed it (claim_new)."""
        claimed = run.state == RunState.RUNNING.value
        if not claimed:
            run.state = RunState.QUEUED.value
        await self.store.create(run)
        if claimed:  # clients see the same sequence of states either way
            self.bus.publish(run.id, ev.STATE, state_payload(run, RunState.QUEUED))
            self._announce(run, RunState.QUEUED)
            metrics.run_transition(run.state, run.trigger, True)
        self.bus.publish(run.id, ev.STATE, state_payload(run))
        self._announce(run)
        await self.bus.flush()
        return run

    def _announce(self, run: Run, state: RunState | None = None) -> None:
        """Tell the tenant's runs feed (runs/feed.py) about the run's new state."""
        entry = feed.change(
            run.id,
            user_id=run.user_id,
            flow_id=run.flow_id,
            state=state.value if state is not None else run.state,
            progress=run.progress or 0.0,
        )
        self.bus.announce(run.tenant_id, entry)

    async def get(self, run_id: str) -> Run:
        run = await self.store.get(run_id)
        if run is None:
            raise NotFoundError(f"run {run_id} not found", field="run_id")
        return run

    async def transition(
        self,
        run_id: str,
        to: RunState,
        *,
        changes: dict[str, Any] | None = None,
        expect: Collection[RunState] | None = None,
        records: list[NewRow] | None = None,
        final_event: tuple[str, dict[str, Any]] | None = None,
        fence: Fence | None = None,
        wait_announced: bool = True,
    ) -> Run:
        """Move a run to `to` if its current state allows it; store, then announce it.

        Unless `wait_announced` is False, this returns once the events are readable from
        any process, so whoever acts on the new state finds them.
        """
        sources = [s for s in (expect or RunState) if to in ALLOWED[s]]
        values = dict(changes or {})
        values["state"] = to.value
        if to is RunState.RUNNING and "started_at" not in values and RunState.QUEUED in sources:
            values["started_at"] = utcnow()
        if to.terminal:
            values.setdefault("finished_at", utcnow())
            values["lease_until"] = None
            if to is RunState.COMPLETED:
                values["progress"] = 1.0
            run = await self.store.finish(run_id, values, records or [], fence)
        else:
            run = await self.store.update(
                run_id, values, from_states=[s.value for s in sources], fence=fence
            )
        if run is None:
            current = await self.get(run_id)
            raise InvalidStateError(
                f"run {run_id} is {current.state}; it cannot become {to.value}", field="state"
            )
        metrics.run_transition(to.value, run.trigger, RunState.QUEUED in sources)
        self.bus.publish(run_id, ev.STATE, state_payload(run))
        self._announce(run)
        if to.terminal:
            for future in self._watchers.pop(run_id, ()):
                if not future.done():
                    future.set_result(run)
            event, data = final_event or terminal_event(run)
            self.bus.publish(run_id, event, data)
        if wait_announced:
            await self.bus.flush()
        return run

    async def announce_end(self, run: Run) -> None:
        """Publish a finished run's last state and terminal event again, from its record.

        For a run whose end was stored but never announced (its process died in between).
        """
        self.bus.publish(run.id, ev.STATE, state_payload(run))
        self._announce(run)
        event, data = terminal_event(run)
        self.bus.publish(run.id, event, data)
        await self.bus.flush()

    def watch(self, run_id: str) -> asyncio.Future[Run]:
        """A future resolved with the run's final record if it ends through this service."""
        future: asyncio.Future[Run] = asyncio.get_running_loop().create_future()
        self._watchers.setdefault(run_id, []).append(future)
        return future

    def unwatch(self, run_id: str, future: asyncio.Future[Run]) -> None:
        futures = self._watchers.get(run_id)
        if futures is not None and future in futures:
            futures.remove(future)
            if not futures:
                del self._watchers[run_id]

    # -- control ---------------------------------------------------------------------------

    async def cancel(self, run_id: str, reason: str = "Cancelled by user") -> Run:
        run = await self.get(run_id)
        if RunState(run.state).terminal:
            raise InvalidStateError(f"run {run_id} already ended ({run.state})", field="state")
        if run.state == RunState.QUEUED:
            try:
                return await self.transition(
                    run_id,
                    RunState.CANCELLED,
                    changes={"error": reason},
                    expect=[RunState.QUEUED],
                )
            except InvalidStateError:
                pass  # it started meanwhile: the worker cancels it
        await self._send(run_id, "cancel", reason)
        return await self.get(run_id)

    async def pause(self, run_id: str) -> Run:
        """Pause a running run, or one whose step waits for an answer (it keeps waiting)."""
        run = await self.transition(
            run_id, RunState.PAUSED, expect=[RunState.RUNNING, RunState.WAITING]
        )
        await self._send(run_id, "pause")
        return run

    async def resume(self, run_id: str) -> Run:
        """Resume a paused run: WAITING again if a step still waits for its answer."""
        current = await self.get(run_id)
        to = RunState.WAITING if current.waiting_on else RunState.RUNNING
        run = await self.transition(run_id, to, expect=[RunState.PAUSED])
        await self._send(run_id, "resume")
        return run

    async def answer(
        self, run_id: str, value: Any, *, vertex_id: str | None = None, user_id: int | None = None
    ) -> Run:
        """Answer a step waiting for input or approval, and record who reviewed it."""
        run = await self.get(run_id)
        if run.state == RunState.PAUSED and run.waiting_on:
            raise InvalidStateError(
                f"run {run_id} is paused; resume it before answering", field="state"
            )
        if run.state != RunState.WAITING:
            raise InvalidStateError(f"run {run_id} is {run.state}, not waiting", field="state")
        step = vertex_id or run.waiting_on
        run = await self.transition(
            run_id,
            RunState.RUNNING,
            expect=[RunState.WAITING],
            changes={"reviewed_by": user_id, "reviewed_at": utcnow(), "waiting_on": None},
        )
        await self._send(run_id, "answer", {"vertex_id": step, "value": value})
        return run

    async def _send(self, run_id: str, command: str, payload: Any = None) -> None:
        if self.channel is not None:
            await self.channel.control(run_id, command, payload)


def state_payload(run: Run, state: RunState | None = None) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "state": state.value if state is not None else run.state,
        "progress": run.progress or 0.0,
        "error": run.error,
        "waiting_on": run.waiting_on,
        "timestamp": utcnow().isoformat(),
    }


def terminal_event(run: Run) -> tuple[str, dict[str, Any]]:
    if run.state == RunState.COMPLETED:
        return ev.END, {"build_duration": 0.0}
    return ev.ERROR, {"error": run.error or run.state, "status": run.state}
