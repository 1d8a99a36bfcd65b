"""Runs one compiled graph: dependency-driven, concurrent, pausable and cancellable."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowdeck.engine.context import RunControl, VertexContext
from flowdeck.engine.events import BUILD_START, END, END_VERTEX, ERROR, VERTICES_SORTED, EventSink
from flowdeck.engine.plan import (
    RunRequest,
    base_params,
    innermost_loops,
    resolve_inputs,
    select_members,
)
from flowdeck.engine.results import RunResult, RunStatus, VertexResult, VertexState

if TYPE_CHECKING:
    from flowdeck.engine.core import Engine
    from flowdeck.engine.graph import Edge, Graph


@dataclass(slots=True)
class _Pass:
    """Book-keeping for running one set of vertices once.

    Vertices that became ready wait in `ready` rather than each in a task of its own: a
    fan-out to thousands of vertices would otherwise hold thousands of tasks at once.
    Whenever a driver is about to run a vertex while others wait, one helper task is
    scheduled (`spawner`); it runs only once every driver is suspended, and then drives
    the next waiting vertex. So vertices that wait on I/O still all run at once, while
    vertices that never suspend run one after another in the driver that has them.
    """

    members: set[str]
    pending: dict[str, int]
    inbox: dict[str, dict[str, list[Any]]]
    group: asyncio.TaskGroup
    ready: deque[str] = field(default_factory=deque)
    spawner: bool = False


class Executor:
    """One run of one graph. Create, `await run()`, read the RunResult."""

    def __init__(
        self,
        engine: Engine,
        graph: Graph,
        request: RunRequest,
        sink: EventSink,
        control: RunControl,
        run_id: str,
        flow_id: str | None = None,
        depth: int = 0,
    ) -> None:
        self.engine = engine
        self.graph = graph
        self.request = request
        self.sink = sink
        self.control = control
        self.run_id = run_id
        self.flow_id = flow_id
        self.depth = depth
        self.session_id = request.session_id or run_id
        self.results: dict[str, VertexResult] = {}
        self._params = base_params(graph, request)
        self._owner = innermost_loops(graph)
        self._failure: VertexResult | None = None

    # -- the run as a whole -------------------------------------------------------------

    async def run(self) -> RunResult:
        members = select_members(self.graph, self.request)
        chosen = set(members)
        first = [m for m in members if not any(p in chosen for p in self._preds(m))]
        self.sink.emit(VERTICES_SORTED, {"ids": first, "to_run": members})
        started = time.perf_counter()
        inner = asyncio.create_task(self._main(members))
        if self.depth == 0:
            # Sub-flows run inside their parent's task, so cancelling the parent reaches them.
            self.control.bind(inner)
        status, error = RunStatus.COMPLETED, None
        try:
            await inner
        except asyncio.CancelledError:
            outer = asyncio.current_task()
            if self.control.cancel_reason is None or (outer and outer.cancelling()):
                raise
            status, error = RunStatus.CANCELLED, self.control.cancel_reason
        except TimeoutError:
            limit = self.request.run_timeout or self.engine.run_timeout
            status, error = RunStatus.FAILED, f"Run exceeded its time limit of {limit:g}s"
        duration = time.perf_counter() - started
        error_vertex = None
        if status is RunStatus.COMPLETED and self._failure is not None:
            status, error_vertex = RunStatus.FAILED, self._failure.id
            error = f"{self._failure.display_name} ({self._failure.id}): {self._failure.error}"
        if status is RunStatus.COMPLETED:
            self.sink.emit(END, {"build_duration": duration})
        else:
            self.sink.emit(
                ERROR,
                {
                    "error": error,
                    "status": status.value,
                    "component_id": error_vertex,
                    "build_duration": duration,
                },
            )
        return RunResult(
            self.run_id, self.session_id, status, self.results, duration, error, error_vertex
        )

    async def _main(self, members: list[str]) -> None:
        timeout = self.request.run_timeout or self.engine.run_timeout
        if timeout:
            async with asyncio.timeout(timeout):
                await self._run_set([m for m in members if m not in self._owner])
        else:
            await self._run_set([m for m in members if m not in self._owner])

    def _preds(self, vid: str) -> list[str]:
        return self.graph.vertices[vid].predecessors

    # -- running a set of vertices --------------------------------------------------------

    async def _run_set(self, order: list[str]) -> None:
        members = set(order)
        pending = dict.fromkeys(order, 0)
        inbox: dict[str, dict[str, list[Any]]] = {}
        for vid in order:
            for e in self.graph.vertices[vid].in_edges:
                if e.feedback:
                    continue
                rep = self._representative(e.source, members)
                if rep is None:
                    self._deliver_from_result(e, inbox)
                elif rep != vid:
                    pending[vid] += 1
        async with asyncio.TaskGroup() as group:
            run = _Pass(members, pending, inbox, group)
            run.ready.extend(vid for vid in order if pending[vid] == 0)
            self._spawn(run)

    def _representative(self, source: str, members: set[str]) -> str | None:
        """The member that stands for `source` (its loop, if it sits in a loop body)."""
        while source not in members:
            owner = self._owner.get(source)
            if owner is None:
                return None
            source = owner
        return source

    def _deliver_from_result(self, e: Edge, inbox: dict[str, dict[str, list[Any]]]) -> None:
        res = self.results.get(e.source)
        if (
            res is not None
            and res.state is VertexState.COMPLETED
            and e.source_output in res.outputs
        ):
            inbox.setdefault(e.target, {}).setdefault(e.target_field, []).append(
                res.outputs[e.source_output]
            )

    def _spawn(self, run: _Pass) -> None:
        run.spawner = True
        run.group.create_task(self._take(run))

    async def _take(self, run: _Pass) -> None:
        """The helper task: every driver is suspended, so drive the next waiting vertex."""
        run.spawner = False
        if run.ready:
            await self._drive(run.ready.popleft(), run)

    async def _drive(self, vid: str, run: _Pass) -> None:
        """Run `vid`, then a successor it made ready, then any waiting vertex, until none."""
        while True:
            if run.ready and not run.spawner:
                self._spawn(run)  # should this vertex suspend, the others go on meanwhile
            result = await self._execute(vid, run.inbox.pop(vid, {}))
            ready = self._finish(result, run)
            if ready:
                run.ready.extend(ready[1:])
                vid = ready[0]
            elif run.ready:
                vid = run.ready.popleft()
            else:
                return

    def _finish(self, result: VertexResult, run: _Pass) -> list[str]:
        """Deliver a finished vertex's outputs; return the members that became ready."""
        vertex = self.graph.vertices[result.id]
        edges: list[Edge] = vertex.out_edges
        if vertex.component.allows_loop:
            edges = edges + self._loop_exit_edges(vertex.id, run.members)
        ready: list[str] = []
        inactivated: list[str] = []
        for e in edges:
            if e.feedback or e.target not in run.members:
                continue
            source = self.results.get(e.source)
            if (
                source is not None
                and source.state is VertexState.COMPLETED
                and e.source_output in source.outputs
            ):
                run.inbox.setdefault(e.target, {}).setdefault(e.target_field, []).append(
                    source.outputs[e.source_output]
                )
            elif result.state is VertexState.COMPLETED and e.target not in inactivated:
                inactivated.append(e.target)
            run.pending[e.target] -= 1
            if run.pending[e.target] == 0:
                ready.append(e.target)
        if result.state is not VertexState.INACTIVE:
            self._emit_end_vertex(result, ready, inactivated)
        return ready

    def _loop_exit_edges(self, loop_id: str, members: set[str]) -> list[Edge]:
        body = self.graph.loop_bodies[loop_id]
        return [
            e
            for b in body
            for e in self.graph.vertices[b].out_edges
            if e.target in members and e.target not in body and not e.feedback
        ]

    # -- one vertex -------------------------------------------------------------------------

    async def _execute(self, vid: str, fields: dict[str, list[Any]]) -> VertexResult:
        vertex = self.graph.vertices[vid]
        component = vertex.component
        for name in vertex.edge_fields:
            if name not in fields:
                result = VertexResult(
                    vid, vertex.type_name, vertex.display_name, VertexState.INACTIVE
                )
                self.results[vid] = result
                return result
        if self.control.paused:
            await self.control.checkpoint()
        params = dict(self._params[vid])
        for name, values in fields.items():
            inp = vertex.input(name)
            params[name] = values if inp is not None and inp.is_list else values[-1]
        ctx = VertexContext(self, vid, vertex.display_name)
        self.sink.emit(BUILD_START, {"id": vid})
        started = time.time()
        t0 = time.perf_counter()
        outputs: Mapping[str, Any] = {}
        error: str | None = None
        try:
            resolved = resolve_inputs(vertex, params)
            timeout = self.request.vertex_timeout or self.engine.vertex_timeout
            if timeout:
                async with asyncio.timeout(timeout):
                    outputs = await component.build(ctx, resolved)
            else:
                outputs = await component.build(ctx, resolved)
        except asyncio.CancelledError:
            self.results[vid] = VertexResult(
                vid,
                vertex.type_name,
                vertex.display_name,
                VertexState.CANCELLED,
                messages=ctx.messages or (),
                logs=ctx.logs or (),
                error="cancelled",
                started_at=started,
                duration=time.perf_counter() - t0,
            )
            raise
        except TimeoutError:
            error = (
                f"timed out after {self.request.vertex_timeout or self.engine.vertex_timeout:g}s"
            )
        except Exception as exc:
            error = str(exc) or type(exc).__name__
        state = VertexState.COMPLETED if error is None else VertexState.FAILED
        result = VertexResult(
            vid,
            vertex.type_name,
            vertex.display_name,
            state,
            outputs if type(outputs) is dict else dict(outputs),
            ctx.messages or (),
            ctx.logs or (),
            error,
            started,
            time.perf_counter() - t0,
        )
        self.results[vid] = result
        if error is not None and self._failure is None:
            self._failure = result
        return result

    def _emit_end_vertex(
        self, result: VertexResult, ready: list[str], inactivated: list[str]
    ) -> None:
        build_data = result.build_data(self.run_id, ready, inactivated)
        self.sink.emit(END_VERTEX, {"build_data": build_data})

    # -- hooks used by components through VertexContext ------------------------------------

    async def iterate(self, loop_id: str, item: Any) -> list[Any]:
        """Run a loop's body once for `item`; return the values fed back into the loop."""
        loop = self.graph.vertices[loop_id]
        self.results[loop_id] = VertexResult(
            loop_id, loop.type_name, loop.display_name, VertexState.COMPLETED, {"item": item}
        )
        body = [b for b in self.graph.loop_bodies[loop_id] if self._owner.get(b) == loop_id]
        await self._run_set(body)
        fed: list[Any] = []
        for e in loop.in_edges:
            if e.feedback:
                res = self.results.get(e.source)
                if res and res.state is VertexState.COMPLETED and e.source_output in res.outputs:
                    fed.append(res.outputs[e.source_output])
        return fed

    async def run_subflow(
        self, ref: str, input_value: str | None, tweaks: Mapping[str, Any] | None
    ) -> RunResult:
        return await self.engine.run_subflow(self, ref, input_value, tweaks)
