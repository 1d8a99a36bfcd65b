"""v2 workflows (Langflow's `/api/v2/workflows`): run a flow, read a job, stop it.

A job is a run started with trigger "workflow"; its state is shown in the seed's job vocabulary.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Query
from fastapi.responses import StreamingResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import RunCaller, ScopeDep, ServicesDep, SessionDep
from flowdeck.api.responses import JSON
from flowdeck.db.models import Run
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.flows import FlowRepository
from flowdeck.db.repositories.run_records import JobRepository
from flowdeck.errors import InvalidInputError, InvalidStateError
from flowdeck.runs.states import RunState
from flowdeck.schemas.workflows import (
    ComponentOutput,
    ErrorDetail,
    JobStatus,
    WorkflowExecutionRequest,
    WorkflowExecutionResponse,
    WorkflowJobResponse,
    WorkflowStopRequest,
    WorkflowStopResponse,
)
from flowdeck.services.container import Services
from flowdeck.services.execution import events_since, failed_component, start_run, wait_for_end

router = guarded_router(prefix="/api/v2/workflows", tags=["Workflow"])

# Langflow's EXECUTION_TIMEOUT: a sync call answers by then; the job goes on, pollable.
SYNC_WAIT = 300.0
# The engine's message for a run stopped by its time limit (the run record keeps no other mark).
TIMEOUT_ERROR_PREFIX = "Run exceeded its time limit"

_STATUS = {
    RunState.QUEUED: JobStatus.QUEUED,
    RunState.RUNNING: JobStatus.IN_PROGRESS,
    RunState.PAUSED: JobStatus.IN_PROGRESS,
    RunState.WAITING: JobStatus.IN_PROGRESS,
    RunState.COMPLETED: JobStatus.COMPLETED,
    RunState.FAILED: JobStatus.FAILED,
    RunState.CANCELLED: JobStatus.CANCELLED,
}
_ERROR_CODES = {
    JobStatus.FAILED: "EXECUTION_ERROR",
    JobStatus.TIMED_OUT: "EXECUTION_TIMEOUT",
    JobStatus.CANCELLED: "CANCELLED",
}


def parse_flat_inputs(inputs: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], str | None]:
    """`{"comp.param": value}` as tweaks `{comp: {param: value}}`, and the session id if given."""
    tweaks: dict[str, dict[str, Any]] = {}
    session_id: str | None = None
    for key, value in inputs.items():
        component, dot, param = key.partition(".")
        if dot and component and param:
            if param == "session_id" and session_id is None and isinstance(value, str):
                session_id = value
            tweaks.setdefault(component, {})[param] = value
        elif not dot and isinstance(value, dict):
            # Langflow also takes a component id mapped to an object of fields.
            tweaks.setdefault(key, {}).update(value)
        else:
            raise InvalidInputError(
                f"input {key!r} must be named 'component_id.param_name'", field=f"inputs.{key}"
            )
    return tweaks, session_id


def job_status(run: Run) -> JobStatus:
    if run.state == RunState.FAILED and (run.error or "").startswith(TIMEOUT_ERROR_PREFIX):
        return JobStatus.TIMED_OUT
    return _STATUS[RunState(run.state)]


def _timestamp(run: Run) -> str:
    created = run.created_at or datetime.now(UTC)
    return (created if created.tzinfo else created.replace(tzinfo=UTC)).isoformat()


def _outputs(run: Run) -> dict[str, ComponentOutput]:
    """Each terminal component's result (Langflow's ComponentOutput), keyed by component id."""
    types = {s.get("id"): s.get("component") for s in run.steps or [] if isinstance(s, dict)}
    found: dict[str, ComponentOutput] = {}
    for group in (run.outputs or {}).get("outputs") or []:
        for result in group.get("outputs") or []:
            cid = str(result.get("component_id"))
            first = next(iter((result.get("outputs") or {}).values()), None)
            metadata: dict[str, Any] = {
                "component_type": types.get(cid),
                "display_name": result.get("component_display_name"),
            }
            if result.get("error"):
                metadata["error"] = result["error"]
            found[cid] = ComponentOutput(
                type="data" if first and first.get("type") == "object" else "message",
                component_id=cid,
                status=JobStatus.COMPLETED
                if result.get("state") == "completed"
                else JobStatus.FAILED,
                content=first.get("message") if first else None,
                metadata=metadata,
            )
    return found


def execution_response(run: Run) -> WorkflowExecutionResponse:
    status = job_status(run)
    errors: list[ErrorDetail] = []
    if status in _ERROR_CODES:
        failed = failed_component(run)
        details: dict[str, Any] = {"flow_id": run.flow_id}
        if failed:
            details["component_id"] = failed
        errors.append(
            ErrorDetail(error=run.error or run.state, code=_ERROR_CODES[status], details=details)
        )
    return WorkflowExecutionResponse(
        flow_id=run.flow_id or "",
        job_id=run.id,
        created_timestamp=_timestamp(run),
        status=status,
        errors=errors,
        inputs=((run.meta or {}).get("workflow") or {}).get("inputs") or {},
        outputs=_outputs(run) if RunState(run.state).terminal else {},
    )


def job_response(run: Run, status: JobStatus | None = None) -> WorkflowJobResponse:
    return WorkflowJobResponse(
        job_id=run.id,
        flow_id=run.flow_id or "",
        created_timestamp=_timestamp(run),
        status=status or job_status(run),
        links={"status": f"/api/v2/workflows?job_id={run.id}", "stop": "/api/v2/workflows/stop"},
    )


async def _sse(services: Services, run: Run) -> AsyncIterator[bytes]:
    """The run's events as server-sent events; the terminal one carries the job's result."""
    async for cursor, name, data in events_since(services, run, 0):
        if name in ("end", "error"):
            final = await services.runs.get(run.id)
            data = {**data, "result": execution_response(final).model_dump(mode="json")}
        frame = {
            "type": name,
            "run_id": run.id,
            "timestamp": int(time.time() * 1000),
            "raw_event": {"event": name, "data": data},
        }
        payload = orjson.dumps(frame, default=str)
        yield b"id: %d\nevent: %s\ndata: %s\n\n" % (cursor, name.encode(), payload)


async def _job(session: SessionDep, scope: Scope, job_id: str) -> Run:
    try:
        key = str(uuid.UUID(job_id))
    except ValueError:
        raise InvalidInputError("Invalid job_id, must be a UUID", field="job_id") from None
    return await JobRepository(session, scope).get(key)


@router.post("", response_model=None, summary="Execute Workflow")
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def execute_workflow(
    body: WorkflowExecutionRequest,
    services: ServicesDep,
    session: SessionDep,
    user: RunCaller,
    scope: ScopeDep,
) -> Any:
    """Run a flow: wait for its result (default), stream its events, or start it as a job."""
    flow = await FlowRepository(session, scope).by_ref(body.flow_id)
    tweaks, session_id = parse_flat_inputs(body.inputs or {})
    graph = await services.graphs.for_flow(flow, tweaks or None)
    # Every terminal component's result is returned, as Langflow's v2 API does.
    terminal = [vid for vid in graph.order if not graph.vertices[vid].successors]
    mode = "background" if body.background else "stream" if body.stream else "sync"
    run = await start_run(
        services,
        flow=flow,
        user=user,
        trigger="workflow",
        request={
            "tweaks": tweaks or None,
            "session_id": session_id,
            "outputs": terminal,
            "output_type": "any",
        },
        graph=graph,
        meta={"workflow": {"inputs": body.inputs or {}, "mode": mode}},
    )
    await session.commit()
    if body.background:
        return job_response(run)
    if body.stream:
        return StreamingResponse(
            _sse(services, run),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    try:
        async with asyncio.timeout(SYNC_WAIT):
            final = await wait_for_end(services, run.id)
    except TimeoutError:
        # Still going: hand back the job to poll instead of failing the call.
        late = job_response(await services.runs.get(run.id))
        return JSON(late.model_dump(mode="json"), status_code=202)
    return execution_response(final)


@router.get("", response_model=WorkflowExecutionResponse, summary="Get Workflow Status")
@requires(Module.RUNS, Op.READ, cookie=False)
async def get_workflow_status(
    session: SessionDep,
    user: RunCaller,
    scope: ScopeDep,
    job_id: Annotated[str | None, Query(description="Job ID to query")] = None,
) -> WorkflowExecutionResponse:
    """A job's status, with its outputs once it has ended."""
    if not job_id:
        raise InvalidInputError("job_id is required", field="job_id")
    return execution_response(await _job(session, scope, job_id))


@router.post("/stop", response_model=WorkflowStopResponse, summary="Stop Workflow")
@requires(Module.RUNS, Op.MODIFY, cookie=False)
async def stop_workflow(
    body: WorkflowStopRequest,
    services: ServicesDep,
    session: SessionDep,
    user: RunCaller,
    scope: ScopeDep,
) -> WorkflowStopResponse:
    """Cancel a queued or running job; stopping a cancelled job again is not an error."""
    run = await _job(session, scope, body.job_id)
    if run.state == RunState.CANCELLED:
        return WorkflowStopResponse(job_id=run.id, message=f"Job {run.id} is already cancelled")
    if RunState(run.state).terminal:
        raise InvalidStateError(
            f"job {run.id} already ended ({job_status(run).value})", field="job_id"
        )
    await services.runs.cancel(run.id, "Cancelled by user")
    return WorkflowStopResponse(job_id=run.id, message=f"Job {run.id} cancelled successfully")
