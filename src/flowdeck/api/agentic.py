"""The assistant (the seed's Agentic group): shipped flows run through a registered provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import Path
from fastapi.responses import StreamingResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import PrincipalDep, ServicesDep
from flowdeck.schemas.agentic import AssistantAnswer, AssistantConfig, AssistantRequest
from flowdeck.services.assistant import ASSISTANT, AssistantCall, assistant_config

router = guarded_router(prefix="/api/v1/agentic", tags=["Agentic"])

FlowName = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/execute/{flow_name}", response_model=AssistantAnswer)
@requires(Module.RUNS, Op.WRITE)
async def execute_named_flow(
    flow_name: FlowName, body: AssistantRequest, services: ServicesDep, principal: PrincipalDep
) -> AssistantAnswer:
    """Run a flow shipped with flowdeck by name (`assistant`, `prompt_generation`)."""
    call = AssistantCall(services, principal, body, flow_name)
    await call.prepare()
    return await call.run(validate=False)


@router.get("/check-config", response_model=AssistantConfig)
@requires(Module.MODELS, Op.READ)
async def check_assistant_config(services: ServicesDep, principal: PrincipalDep) -> AssistantConfig:
    """The tenant's providers, whether each is configured, and their chat models."""
    return await assistant_config(services, principal)


@router.post("/assist", response_model=AssistantAnswer)
@requires(Module.RUNS, Op.WRITE)
async def assist(
    body: AssistantRequest, services: ServicesDep, principal: PrincipalDep
) -> AssistantAnswer:
    """Ask the assistant; component code in its reply is checked, and asked again if wrong."""
    call = AssistantCall(services, principal, body, ASSISTANT)
    await call.prepare()
    return await call.run(validate=True)


@router.post("/assist/stream")
@requires(Module.RUNS, Op.WRITE)
async def assist_stream(
    body: AssistantRequest, services: ServicesDep, principal: PrincipalDep
) -> StreamingResponse:
    """As assist, as server-sent events: progress, each token as it comes, then complete."""
    call = AssistantCall(services, principal, body, ASSISTANT)
    await call.prepare()  # a bad provider or model is a 400 before the stream starts
    return StreamingResponse(
        _sse(call.stream()),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


async def _sse(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    async for event in events:
        yield b"data: " + orjson.dumps(event, default=str) + b"\n\n"
