"""Starting runs: from a stored flow (or a graph sent with the request), by any trigger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from flowdeck.db.base import new_id, quick_instance
from flowdeck.db.models import Flow, Run, User
from flowdeck.engine import Graph
from flowdeck.engine import events as ev
from flowdeck.errors import InvalidStateError, UnprocessableError
from flowdeck.runs.bus import Event
from flowdeck.runs.service import state_payload, terminal_event
from flowdeck.runs.states import RunState
from flowdeck.services.container import Services
from flowdeck.services.graphs import flow_stamp, snapshot
from flowdeck.workers.runner import RunJob

# Deployment status of a flow (the control dialect): whether it accepts new runs.
RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
# Run.meta key of runs held back because their flow was paused (released on resume).
HELD = "held_by_pause"
# A local run's end resolves its waiters at once; this re-read is only a safety net.
LOCAL_RECHECK_SECONDS = 5.0


async def start_run(
    services: Services,
    *,
    flow: Flow | None,
    user: User | None,
    trigger: str,
    request: dict[str, Any],
    graph_data: dict[str, Any] | None = None,
    flow_version_id: int | None = None,
    tags: list[Any] | None = None,
    meta: dict[str, Any] | None = None,
    graph: Graph | None = None,
    run_id: str | None = None,
    submit: bool = True,
    tenant_id: str | None = None,
) -> Run:
    """Validate, record (queued) and submit one run; returns once the record is stored.

    `run_id` is a client-chosen id; `submit=False` records the run without starting it
    (the caller submits it later). A run of no stored flow belongs to `tenant_id` (the
    tenant the request acts in), else to the user's own.
    """
    if flow is not None and flow.deployment_status == STOPPED:
        raise InvalidStateError(
            f"flow {flow.id} is stopped and accepts no new runs", field="flow_id"
        )
    tweaks = request.get("tweaks") or None
    if flow is not None:
        tenant_id = flow.tenant_id
    elif tenant_id is None:
        tenant_id = user.tenant_id if user else None
    if graph is None:
        if graph_data is not None:
            graph = await services.graphs.compile(None, graph_data, tweaks, tenant_id=tenant_id)
        elif flow is not None:
            graph = await services.graphs.for_flow(flow, tweaks)
        else:
            raise InvalidStateError("a run needs a flow or a graph", field="flow_id")
    check_targets(graph, request)
    owner = flow.user_id if flow is not None and user is None else (user.id if user else None)
    # A paused flow takes triggers but holds their runs until it is resumed (HELD marks them).
    held = submit and flow is not None and flow.deployment_status == PAUSED
    values = {
        "id": run_id,
        "flow_id": flow.id if flow is not None else None,
        "flow_version_id": flow_version_id,
        "flow_type": flow.flow_type if flow is not None else "automation",
        "tenant_id": tenant_id if tenant_id is not None else 0,
        "user_id": owner,
        "trigger": trigger,
        "request": request,
        "graph": snapshot(graph_data) if graph_data is not None else None,
        "session_id": request.get("session_id"),
        "tags": tags or [],
        "meta": {**(meta or {}), HELD: True} if held else (meta or {}),
        "steps": [],
        "logs": [],
        "progress": 0.0,
        "attempts": 0,
    }
    run = quick_instance(Run, values)
    # With a free local slot, the run is stored already running: one write fewer.
    claimed = submit and not held and services.queue.reserve()
    if claimed:
        run.id = run.id or new_id()
        services.worker.claim_new(run)
    try:
        run = await services.runs.create(run)
    except BaseException:
        if claimed:
            services.worker.unclaim(run.id)
            services.queue.release()
        raise
    if submit and not held:
        stamp = flow_stamp(flow) if flow is not None and graph_data is None else None
        await services.submit(RunJob(run, graph, flow_stamp=stamp, claimed=claimed))
    return run


def check_targets(graph: Graph, request: dict[str, Any]) -> None:
    """Components a request names must be in the graph: refused now (422), not a failed run."""
    for cid in request.get("inputs") or {}:
        if graph.find(cid) is None:
            raise UnprocessableError(
                f"inputs name no component {cid!r} in this flow", field="inputs", component_id=cid
            )
    for name in ("start_component_id", "stop_component_id"):
        cid = request.get(name)
        if cid is not None and cid not in graph.vertices:
            raise UnprocessableError(
                f"no component {cid!r} in this flow", field=name, component_id=cid
            )


def failed_component(run: Run) -> str | None:
    """The id of the first step that failed, if a step did."""
    for step in run.steps or []:
        if isinstance(step, dict) and step.get("error"):
            return str(step.get("id"))
    return None


async def wait_for_end(services: Services, run_id: str, run: Run | None = None) -> Run:
    """Block until a run reaches a terminal state; its final record.

    `run` is the caller's copy of the record, if it has one. A run that ends through this
    process's RunService hands its final record over directly: no re-read. In the embedded
    mode every run ends that way, so the caller just waits for it; a distributed run ends
    in a worker, and its events on the bus say when.
    """
    ended = services.runs.watch(run_id)
    try:
        if run is None:
            run = await services.runs.get(run_id)
        if not services.settings.distributed:
            while not RunState(run.state).terminal:
                done, _ = await asyncio.wait({ended}, timeout=LOCAL_RECHECK_SECONDS)
                run = ended.result() if done else await services.runs.get(run_id)
            return run
        finished = await services.bus.is_finished(run_id)
        if finished is not None or not RunState(run.state).terminal:
            if not ended.done():
                async for _ in services.bus.stream(run_id):
                    pass
            run = ended.result() if ended.done() else await services.runs.get(run_id)
        while not RunState(run.state).terminal:
            # The bus may have dropped the run's events (retention); fall back to polling.
            await asyncio.sleep(0.05)
            run = ended.result() if ended.done() else await services.runs.get(run_id)
        return run
    finally:
        services.runs.unwatch(run_id, ended)


async def events_since(services: Services, run: Run, after: int) -> AsyncIterator[Event]:
    """A run's events from a cursor, ending with a terminal event even if the bus forgot it."""
    seen_terminal = False
    if await services.bus.is_finished(run.id) is not None or not RunState(run.state).terminal:
        async for item in services.bus.stream(run.id, after):
            seen_terminal = item[1] in ("end", "error")
            yield item
    if not seen_terminal:
        final = await services.runs.get(run.id)
        if RunState(final.state).terminal:
            # As the run service announced it: the final state, then the terminal event.
            yield (after + 1, ev.STATE, state_payload(final))
            yield (after + 2, *terminal_event(final))
