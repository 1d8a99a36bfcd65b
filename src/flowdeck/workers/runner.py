"""Executes one run: the same code in the embedded pool and in a Celery worker."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from flowdeck.db.models import Run
from flowdeck.engine import Engine, Graph, RunControl, RunRequest, RunStatus
from flowdeck.errors import FlowdeckError, InvalidStateError
from flowdeck.runs.recorder import RunRecorder
from flowdeck.runs.service import RunService
from flowdeck.runs.states import UNFINISHED, RunState

log = logging.getLogger("flowdeck.worker")

_FINAL = {
    RunStatus.COMPLETED: RunState.COMPLETED,
    RunStatus.FAILED: RunState.FAILED,
    RunStatus.CANCELLED: RunState.CANCELLED,
}


class GraphSource(Protocol):
    """Finds and compiles the graph a run executes (its flow, version, tweaks)."""

    async def graph_for(self, run: Run) -> Graph: ...


@dataclass(slots=True)
class RunJob:
    """A run handed to a worker; in-process callers also hand over the compiled graph."""

    run: Run
    graph: Graph | None = None


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
    )


class RunWorker:
    """Executes runs and holds the controls of those in flight (for cancel, pause, answer)."""

    def __init__(
        self, engine: Engine, service: RunService, graphs: GraphSource, name: str = "local"
    ) -> None:
        self.engine = engine
        self.service = service
        self.graphs = graphs
        self.name = name
        self.controls: dict[str, RunControl] = {}
        self._background: set[asyncio.Task[Any]] = set()

    async def execute(self, job: RunJob) -> RunState | None:
        """Run one queued run to its end; None when it was no longer queued."""
        run = job.run
        try:
            run = await self.service.transition(
                run.id,
                RunState.RUNNING,
                expect=[RunState.QUEUED],
                changes={"attempts": (run.attempts or 0) + 1, "worker": self.name},
            )
        except InvalidStateError:
            return None
        control = RunControl()
        self.controls[run.id] = control
        try:
            return await self._execute(run, job.graph, control)
        finally:
            self.controls.pop(run.id, None)

    async def _execute(self, run: Run, graph: Graph | None, control: RunControl) -> RunState:
        try:
            if graph is None:
                graph = await self.graphs.graph_for(run)
            request = request_from(run)
        except FlowdeckError as exc:
            await self.service.transition(
                run.id, RunState.FAILED, expect=UNFINISHED, changes={"error": exc.message}
            )
            return RunState.FAILED
        recorder = RunRecorder(
            run.id,
            self.service.bus,
            flow_id=run.flow_id,
            tenant_id=run.tenant_id,
            user_id=run.user_id,
            components={vid: v.type_name for vid, v in graph.vertices.items()},
            on_waiting=lambda vid, _prompt, _kind: self._spawn(self._mark_waiting(run.id, vid)),
        )
        try:
            result = await self.engine.run(
                graph, request, sink=recorder, control=control, run_id=run.id, flow_id=run.flow_id
            )
        except FlowdeckError as exc:
            await self.service.transition(
                run.id,
                RunState.FAILED,
                expect=UNFINISHED,
                changes={"error": exc.message, "steps": recorder.step_list()},
            )
            return RunState.FAILED
        req = run.request or {}
        outputs = result.run_response(
            graph,
            {"input_value": req.get("input_value")},
            output_type=req.get("output_type") or "chat",
            output_component=req.get("output_component"),
            outputs=req.get("outputs"),
        )
        state = _FINAL[result.status]
        await self.service.transition(
            run.id,
            state,
            expect=UNFINISHED,
            records=recorder.records,
            final_event=recorder.terminal,
            changes={
                "outputs": outputs,
                "steps": recorder.step_list(),
                "logs": recorder.logs,
                "error": result.error,
                "progress": recorder.progress,
                "waiting_on": None,
            },
        )
        return state

    async def _mark_waiting(self, run_id: str, vertex_id: str) -> None:
        try:
            await self.service.transition(
                run_id,
                RunState.WAITING,
                expect=[RunState.RUNNING],
                changes={"waiting_on": vertex_id},
            )
        except InvalidStateError:
            log.debug("run %s left RUNNING before it could wait", run_id)

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
