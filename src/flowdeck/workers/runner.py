"""Executes one run: the same code in the embedded pool and in a Celery worker."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flowdeck.db.base import utcnow
from flowdeck.db.models import Run
from flowdeck.engine import Engine, Graph, RunControl, RunRequest, RunStatus
from flowdeck.errors import FlowdeckError, InvalidStateError, NotFoundError
from flowdeck.runs.caps import RecordCaps, cap_fields
from flowdeck.runs.recorder import RunRecorder
from flowdeck.runs.service import RunService
from flowdeck.runs.states import UNFINISHED, RunState
from flowdeck.runs.store import Fence, Increment
from flowdeck.workers.progress import ProgressWriter

log = logging.getLogger("flowdeck.worker")

# The fields of a run's record that grow with what its flow produces, capped together.
RUN_FIELDS = ("outputs", "steps", "logs", "error")
_FINAL = {
    RunStatus.COMPLETED: RunState.COMPLETED,
    RunStatus.FAILED: RunState.FAILED,
    RunStatus.CANCELLED: RunState.CANCELLED,
}


class GraphSource(Protocol):
    """Finds and compiles the graph a run executes (its flow, version, tweaks)."""

    async def graph_for(self, run: Run, flow_stamp: str | None = None) -> Graph: ...


@dataclass(slots=True)
class RunJob:
    """A run handed to a worker; in-process callers also hand over the compiled graph.

    `flow_stamp` names the version of the run's flow the caller saw (GraphCache.flow_stamp),
    so a worker that has that graph compiled need not read the flow again.
    """

    run: Run
    graph: Graph | None = None
    flow_stamp: str | None = None
    # Claimed by this process's worker before it was stored (RunWorker.claim_new).
    claimed: bool = False


def request_from(run: Run) -> RunRequest:
    """The engine request stored in a run record."""
    req: dict[str, Any] = run.request or {}
    return RunRequest(
        input_value=req.get("input_value"),
        input_type=req.get("input_type") or "chat",
        inputs=req.get("inputs") or {},
        session_id=run.session_id or req.get("session_id"),
        start_component_id=req.get("start_component_id"),
        stop_component_id=req.get("stop_component_id"),
        tenant_id=run.tenant_id,
        run_timeout=req.get("run_timeout"),
    )


class RunWorker:
    """Executes runs and holds the controls of those in flight (for cancel, pause, answer)."""

    def __init__(
        self,
        engine: Engine,
        service: RunService,
        graphs: GraphSource,
        name: str = "local",
        lease_seconds: float | None = None,
        caps: RecordCaps | None = None,
    ) -> None:
        self.engine = engine
        self.caps = caps or RecordCaps()
        self.service = service
        self.graphs = graphs
        self.name = name
        self.lease_seconds = lease_seconds
        self.controls: dict[str, RunControl] = {}
        # Runs whose lease another process took over: they end here without writing anything.
        self.lost: set[str] = set()
        self.progress = ProgressWriter(service.store)
        # Set by a hard stop: runs not yet claimed are left for another worker.
        self.draining = False
        self._background: set[asyncio.Task[Any]] = set()

    def claim_new(self, run: Run) -> None:
        """Hold a run that is about to be created: it is stored RUNNING, by this worker."""
        run.state = RunState.RUNNING.value
        run.attempts = 1
        run.worker = self.name
        run.started_at = utcnow()
        if self.lease_seconds:
            run.lease_until = run.started_at + timedelta(seconds=self.lease_seconds)
        # Registered now, so a cancel arriving before the run starts still reaches it.
        self.controls[run.id] = RunControl()

    def unclaim(self, run_id: str) -> None:
        self.controls.pop(run_id, None)

    async def execute(self, job: RunJob) -> RunState | None:
        """Run one queued (or claimed) run to its end; None when it was no longer queued."""
        if job.claimed:
            control = self.controls.setdefault(job.run.id, RunControl())
            return await self._hold(job.run, control, job.graph, job.flow_stamp)
        return await self.execute_id(job.run.id, job.graph, job.flow_stamp)

    async def execute_id(
        self, run_id: str, graph: Graph | None = None, flow_stamp: str | None = None
    ) -> RunState | None:
        """Claim a run by id (if still queued) and run it to its end; None if not claimed."""
        if self.draining:
            return None
        changes: dict[str, Any] = {"attempts": Increment(1), "worker": self.name}
        if self.lease_seconds:
            changes["lease_until"] = utcnow() + timedelta(seconds=self.lease_seconds)
        try:
            # The engine starts without waiting for the `running` event to be written: it
            # goes out with the run's first events instead of a round trip of its own.
            run = await self.service.transition(
                run_id,
                RunState.RUNNING,
                expect=[RunState.QUEUED],
                changes=changes,
                wait_announced=False,
            )
        except (InvalidStateError, NotFoundError):
            return None
        control = RunControl()
        self.controls[run.id] = control
        return await self._hold(run, control, graph, flow_stamp)

    async def _hold(
        self, run: Run, control: RunControl, graph: Graph | None, flow_stamp: str | None
    ) -> RunState | None:
        """Execute a run this worker holds; the controls are dropped when it ends."""
        fence = (self.name, run.attempts)
        try:
            return await self._execute(run, graph, control, fence, flow_stamp)
        except InvalidStateError:
            current = await self.service.store.get(run.id)
            if current is not None and (current.worker, current.attempts) == fence:
                raise
            # Our lease lapsed and another attempt owns the run now: this one writes nothing.
            log.warning("run %s was taken over after its lease lapsed; result dropped", run.id)
            return None
        finally:
            # Only this attempt's own: a retry of the run may be running here by now.
            self.progress.untrack(run.id, fence)
            if self.controls.get(run.id) is control:
                del self.controls[run.id]
                self.lost.discard(run.id)

    async def _execute(
        self,
        run: Run,
        graph: Graph | None,
        control: RunControl,
        fence: Fence,
        flow_stamp: str | None,
    ) -> RunState:
        try:
            if graph is None:
                graph = await self.graphs.graph_for(run, flow_stamp)
            request = request_from(run)
        except FlowdeckError as exc:
            await self.service.transition(
                run.id,
                RunState.FAILED,
                expect=UNFINISHED,
                changes={"error": exc.message},
                fence=fence,
            )
            return RunState.FAILED
        recorder = RunRecorder(
            run.id,
            self.service.bus,
            flow_id=run.flow_id,
            tenant_id=run.tenant_id,
            user_id=run.user_id,
            components={vid: v.type_name for vid, v in graph.vertices.items()},
            on_waiting=lambda vid, _prompt, _kind: self._spawn(
                self._mark_waiting(run.id, vid, fence)
            ),
            caps=self.caps,
        )
        self.progress.track(run.id, recorder, fence)
        try:
            result = await self.engine.run(
                graph, request, sink=recorder, control=control, run_id=run.id, flow_id=run.flow_id
            )
        except FlowdeckError as exc:
            self.progress.untrack(run.id, fence)
            await self.service.transition(
                run.id,
                RunState.FAILED,
                expect=UNFINISHED,
                changes={"error": exc.message, "steps": recorder.step_list()},
                fence=fence,
            )
            return RunState.FAILED
        self.progress.untrack(run.id, fence)
        req = run.request or {}
        outputs = result.run_response(
            graph,
            {"input_value": req.get("input_value")},
            output_type=req.get("output_type") or "chat",
            output_component=req.get("output_component"),
            outputs=req.get("outputs"),
        )
        state = _FINAL[result.status]
        changes: dict[str, Any] = {
            "outputs": outputs,
            "steps": recorder.step_list(),
            "logs": recorder.logs,
            "error": result.error,
            "progress": recorder.progress,
            "waiting_on": None,
        }
        cap_fields(changes, RUN_FIELDS, self.caps.run_bytes)  # a cut `outputs` says so itself
        await self.service.transition(
            run.id,
            state,
            expect=UNFINISHED,
            records=recorder.records,
            final_event=recorder.terminal,
            fence=fence,
            changes=changes,
        )
        return state

    async def _mark_waiting(self, run_id: str, vertex_id: str, fence: Fence) -> None:
        # The record is brought up to date with the state: a run parked on a person is when
        # someone opens its page, and no later event would make that page read it again.
        # (The recorder is found through the progress writer: a callback holding it would
        # make a reference cycle, and every run's record would wait for the collector.)
        changes = {"waiting_on": vertex_id, **self.progress.live(run_id, fence)}
        # A pause or resume may land in between: try both until one holds (or the run ended).
        for _ in range(3):
            try:
                await self.service.transition(
                    run_id,
                    RunState.WAITING,
                    expect=[RunState.RUNNING],
                    changes=changes,
                    fence=fence,
                )
                return
            except InvalidStateError:
                pass
            # Paused: it stays paused, and its resume makes it WAITING for this step.
            if await self.service.store.update(
                run_id, changes, from_states=[RunState.PAUSED], fence=fence
            ):
                return
        log.debug("run %s ended or moved on before it could wait", run_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def apply(self, run_id: str, command: str, payload: Any = None) -> bool:
        """Deliver a control command to a run executing here; False if it is not here."""
        control = self.controls.get(run_id)
        if control is None:
            return False
        if command == "cancel":
            control.cancel(str(payload or "Cancelled by user"))
        elif command == "pause":
            control.pause()
        elif command == "resume":
            control.resume()
        elif command == "answer":
            control.answer(payload["value"], payload.get("vertex_id"))
        return True
