"""Run a flow and get its result: simplified, advanced, and webhook runs (Langflow's paths),
and the simplified run of a flow's draft, published version or named version."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import Body, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ConfigDict, Field, StrictBool

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import RunCaller, ScopeDep, ServicesDep
from flowdeck.api.errors import REQUEST_ID
from flowdeck.api.responses import JSON
from flowdeck.db.models import Flow, Run, User
from flowdeck.db.repositories.base import Scope
from flowdeck.engine.events import FLOWDECK_EVENTS
from flowdeck.errors import InvalidInputError
from flowdeck.runs.states import RunState
from flowdeck.schemas.base import Schema
from flowdeck.schemas.common import FlowdeckEvents, QueryBool
from flowdeck.services.caches import flow_cache
from flowdeck.services.container import Services
from flowdeck.services.execution import events_since, failed_component, start_run, wait_for_end
from flowdeck.services.flow_versions import version_to_run

router = guarded_router(prefix="/api/v1", tags=["Base"])


class SimplifiedRunRequest(Schema):
    input_value: str | None = None
    input_type: str = Field("chat", pattern="^(chat|text|any)$")
    output_type: str = Field("chat", pattern="^(chat|text|any|debug)$")
    output_component: str | None = None
    tweaks: dict[str, Any] | None = None
    session_id: str | None = None
    # Langflow's SDKs ask for a stream in the body; `?stream=true` does the same.
    stream: StrictBool = False


class StagedRunRequest(Schema):
    """The seed's body: the run request under `input_request`, with an optional `context`.

    A bare SimplifiedRunRequest is read too, so a client of `/run/{flow}` works unchanged.
    """

    # Forbidding other keys tells the two shapes apart (and names a misspelt key).
    model_config = ConfigDict(extra="forbid")

    input_request: SimplifiedRunRequest | None = None
    context: dict[str, Any] | None = None


class AdvancedInput(Schema):
    components: list[str] = []
    input_value: str | None = None
    type: str = Field("chat", pattern="^(chat|text|any)$")


class AdvancedRunRequest(Schema):
    inputs: list[AdvancedInput] = []
    outputs: list[str] = []
    tweaks: dict[str, Any] | None = None
    stream: StrictBool = False
    session_id: str | None = None


async def run_and_answer(services: Services, run: Run, stream: bool, own: bool = False) -> Any:
    """The RunResponse once the run ends, or its events as they happen (Langflow's events;
    flowdeck's own too if `own`)."""
    if stream:
        return StreamingResponse(_sse(services, run, own), media_type="text/event-stream")
    final = await wait_for_end(services, run.id, run)
    if final.state != RunState.COMPLETED:
        # The flow failed (a step, a time limit) or was cancelled: the request was served,
        # so this is no server error; the answer names the component that failed.
        cancelled = final.state == RunState.CANCELLED
        return JSON(
            {
                "detail": final.error or final.state,
                "code": "run_cancelled" if cancelled else "run_failed",
                "message": final.error or final.state,
                "request_id": REQUEST_ID.get(),
                "component_id": failed_component(final),
                "run_id": final.id,
                "state": final.state,
                "outputs": final.outputs,
            },
            status_code=499 if cancelled else 422,
        )
    return JSON({**(final.outputs or {}), "run_id": final.id})


async def _sse(services: Services, run: Run, own: bool) -> AsyncIterator[bytes]:
    # Langflow's stream: one JSON object per event, separated by blank lines.
    async for _, name, data in events_since(services, run, 0):
        if not own and name in FLOWDECK_EVENTS:
            continue
        if name == "end":
            final = await services.runs.get(run.id)
            data = {**data, "result": final.outputs}
        yield orjson.dumps({"event": name, "data": data}, default=str) + b"\n\n"


async def _flow(services: Services, scope: Scope, ref: str) -> Flow:
    # No request session: a sync run may wait a long time for its end, and holding a
    # connection meanwhile would exhaust the pool (the run store writes on its own).
    return await flow_cache(services).by_ref(scope, ref)


@router.post("/run/{flow_id_or_name}")
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def simplified_run_flow(
    flow_id_or_name: str,
    services: ServicesDep,
    user: RunCaller,
    scope: ScopeDep,
    body: Annotated[SimplifiedRunRequest | None, Body()] = None,
    stream: QueryBool = False,
    flowdeck_events: FlowdeckEvents = False,
) -> Any:
    flow = await _flow(services, scope, flow_id_or_name)
    req = (body or SimplifiedRunRequest()).model_dump()
    stream = stream or req.pop("stream")
    run = await start_run(services, flow=flow, user=user, trigger="api", request=req)
    return await run_and_answer(services, run, stream, flowdeck_events)


def staged_request(body: StagedRunRequest | SimplifiedRunRequest | None) -> dict[str, Any]:
    """The run request of a staged run body, in either of its two shapes."""
    if isinstance(body, StagedRunRequest):
        req = (body.input_request or SimplifiedRunRequest()).model_dump()
        if body.context:
            req["context"] = body.context  # recorded with the run
        return req
    return (body or SimplifiedRunRequest()).model_dump()


async def run_staged(
    services: Services,
    scope: Scope,
    user: User,
    ref: str,
    body: StagedRunRequest | SimplifiedRunRequest | None,
    stream: bool,
    *,
    published: bool = False,
    label: str | None = None,
) -> Any:
    """Run the draft of a flow, or (published, label) a frozen version of it."""
    flow = await _flow(services, scope, ref)
    req = staged_request(body)
    if not published and label is None:
        run = await start_run(services, flow=flow, user=user, trigger="api", request=req)
        return await run_and_answer(services, run, stream)
    version = await version_to_run(services.db, scope, flow, label)
    graph = await services.graphs.for_version(version, req.get("tweaks") or None)
    run = await start_run(
        services,
        flow=flow,
        user=user,
        trigger="api",
        request=req,
        flow_version_id=version.id,
        graph=graph,
        meta={"flow_version": version.version},
    )
    return await run_and_answer(services, run, stream)


StagedBody = Annotated[StagedRunRequest | SimplifiedRunRequest | None, Body()]


@router.post("/run/dev/{flow_id_or_name}")
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def simplified_run_dev_flow(
    flow_id_or_name: str,
    services: ServicesDep,
    user: RunCaller,
    scope: ScopeDep,
    body: StagedBody = None,
    stream: QueryBool = False,
) -> Any:
    """Run the flow's draft: what its editor saved last."""
    return await run_staged(services, scope, user, flow_id_or_name, body, stream)


@router.post("/run/online/{flow_id_or_name}")
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def simplified_run_online_flow(
    flow_id_or_name: str,
    services: ServicesDep,
    user: RunCaller,
    scope: ScopeDep,
    body: StagedBody = None,
    stream: QueryBool = False,
) -> Any:
    """Run the flow's published version; 404 when nothing is published."""
    return await run_staged(services, scope, user, flow_id_or_name, body, stream, published=True)


@router.post("/run/release/{flow_id_or_name}")
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def simplified_run_release_flow(
    flow_id_or_name: str,
    services: ServicesDep,
    user: RunCaller,
    scope: ScopeDep,
    v: Annotated[str, Query(min_length=1)],
    body: StagedBody = None,
    stream: QueryBool = False,
) -> Any:
    """Run the flow's version named `v`."""
    return await run_staged(services, scope, user, flow_id_or_name, body, stream, label=v)


@router.post("/run/advanced/{flow_id_or_name}")
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def experimental_run_flow(
    flow_id_or_name: str,
    body: AdvancedRunRequest,
    services: ServicesDep,
    user: RunCaller,
    scope: ScopeDep,
    stream: QueryBool = False,
    flowdeck_events: FlowdeckEvents = False,
) -> Any:
    flow = await _flow(services, scope, flow_id_or_name)
    per_component: dict[str, dict[str, Any]] = {}
    input_value, input_type = None, "chat"
    for item in body.inputs:
        if not item.components:
            input_value, input_type = item.input_value, item.type
        for cid in item.components:
            per_component.setdefault(cid, {})["input_value"] = item.input_value
    req = {
        "input_value": input_value,
        "input_type": input_type,
        "inputs": per_component,
        "outputs": body.outputs or None,
        "output_type": "any",
        "tweaks": body.tweaks,
        "session_id": body.session_id,
    }
    run = await start_run(services, flow=flow, user=user, trigger="api", request=req)
    return await run_and_answer(services, run, stream or body.stream, flowdeck_events)


@router.post("/webhook/{flow_id_or_name}", status_code=202)
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def webhook_run_flow(
    flow_id_or_name: str,
    request: Request,
    services: ServicesDep,
    user: RunCaller,
    scope: ScopeDep,
) -> dict[str, Any]:
    flow = await _flow(services, scope, flow_id_or_name)
    raw = await request.body()
    try:
        payload = raw.decode() if raw else ""
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            "the webhook body must be UTF-8 text or JSON", field="body"
        ) from exc
    graph = await services.graphs.for_flow(flow)
    has_webhook = any(v.component.input_kind == "webhook" for v in graph.vertices.values())
    req = {
        "input_value": payload,
        "input_type": "webhook" if has_webhook else "any",
        "output_type": "any",
    }
    run = await start_run(
        services, flow=flow, user=user, trigger="webhook", request=req, graph=graph
    )
    return {"message": "Task started in the background", "status": "in progress", "run_id": run.id}
