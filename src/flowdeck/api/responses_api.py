"""OpenAI-compatible Responses API: run a flow named by `model` on the `input` text.

A response is a run (trigger "responses"): its id is the run's id, and passing it back as
`previous_response_id` continues the same session. Streamed replies use OpenAI's Responses
event stream; the flow's token events become `response.output_text.delta` events.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import StreamingResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import RunCaller, ScopeDep, ServicesDep, SessionDep
from flowdeck.db.models import Run
from flowdeck.db.repositories.flows import FlowRepository
from flowdeck.db.repositories.run_records import ResponseRepository
from flowdeck.engine import events as ev
from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.runs.states import RunState
from flowdeck.schemas.openai_responses import (
    OutputMessage,
    OutputText,
    ResponseError,
    ResponseObject,
    ResponsesRequest,
    ResponseStatus,
)
from flowdeck.services.container import Services
from flowdeck.services.execution import events_since, start_run, wait_for_end

router = guarded_router(prefix="/api/v1", tags=["OpenAI Responses API"])

TRIGGER = "responses"
_STATUS: dict[RunState, ResponseStatus] = {
    RunState.QUEUED: "queued",
    RunState.RUNNING: "in_progress",
    RunState.PAUSED: "in_progress",
    RunState.WAITING: "in_progress",
    RunState.COMPLETED: "completed",
    RunState.FAILED: "failed",
    RunState.CANCELLED: "cancelled",
}


def input_text(value: str | list[dict[str, Any]]) -> str:
    """The text to run: the input string, or the last user message of OpenAI input items."""
    if isinstance(value, str):
        return value
    for item in reversed(value):
        if item.get("role", "user") != "user":
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [
                part["text"]
                for part in content
                if isinstance(part, dict)
                and part.get("type") in ("input_text", "text")
                and isinstance(part.get("text"), str)
            ]
            if texts:
                return "\n".join(texts)
    raise InvalidInputError("input holds no user message text", field="input")


def output_text(run: Run) -> str:
    """The flow's reply: the text of each chat output, in graph order."""
    texts: list[str] = []
    for group in (run.outputs or {}).get("outputs") or []:
        for result in group.get("outputs") or []:
            messages = [m.get("message") for m in result.get("messages") or []]
            if not messages:
                first = next(iter((result.get("outputs") or {}).values()), None)
                messages = [first.get("message")] if first else []
            texts += [m if isinstance(m, str) else orjson.dumps(m).decode() for m in messages]
    return "\n".join(t for t in texts if t)


def response_object(run: Run, status: ResponseStatus | None = None) -> ResponseObject:
    meta = (run.meta or {}).get(TRIGGER) or {}
    created = run.created_at or datetime.now(UTC)
    created = created if created.tzinfo else created.replace(tzinfo=UTC)
    state = RunState(run.state)
    status = status or _STATUS[state]
    output: list[OutputMessage] = []
    if status == "completed":
        text = OutputText(text=output_text(run))
        output.append(OutputMessage(id=f"msg_{run.id}", status="completed", content=[text]))
    error = None
    if status == "failed":
        error = ResponseError(code="server_error", message=run.error or "the flow failed")
    return ResponseObject(
        id=run.id,
        created_at=int(created.timestamp()),
        status=status,
        error=error,
        model=meta.get("model") or run.flow_id or "",
        output=output,
        previous_response_id=meta.get("previous_response_id"),
    )


class _Events:
    """OpenAI's Responses stream events for one message, numbered in order."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        self._seq = itertools.count()

    def frame(self, kind: str, **fields: Any) -> bytes:
        doc = {"type": kind, "sequence_number": next(self._seq), **fields}
        return b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps(doc, default=str))

    def part(self, kind: str, **fields: Any) -> bytes:
        return self.frame(kind, item_id=self.item_id, output_index=0, content_index=0, **fields)

    def opening(self, response: ResponseObject) -> Iterator[bytes]:
        body = response.model_dump(mode="json")
        yield self.frame("response.created", response=body)
        yield self.frame("response.in_progress", response=body)
        item = OutputMessage(id=self.item_id, status="in_progress")
        yield self.frame("response.output_item.added", output_index=0, item=item.model_dump())
        yield self.part("response.content_part.added", part=OutputText(text="").model_dump())

    def closing(self, response: ResponseObject, streamed: bool) -> Iterator[bytes]:
        body = response.model_dump(mode="json")
        if response.status != "completed":
            yield self.frame("response.failed", response=body)
            return
        message = response.output[0]
        text = message.content[0]
        if not streamed and text.text:
            # No token events (no streaming model in the flow): the reply as one delta.
            yield self.part("response.output_text.delta", delta=text.text)
        yield self.part("response.output_text.done", text=text.text)
        yield self.part("response.content_part.done", part=text.model_dump())
        yield self.frame("response.output_item.done", output_index=0, item=message.model_dump())
        yield self.frame("response.completed", response=body)


async def _stream(services: Services, run: Run) -> AsyncIterator[bytes]:
    events = _Events(f"msg_{run.id}")
    for frame in events.opening(response_object(run, "in_progress")):
        yield frame
    streamed = False
    async for _, name, data in events_since(services, run, 0):
        chunk = data.get("chunk") if name == ev.TOKEN else None
        if isinstance(chunk, str) and chunk:
            streamed = True
            yield events.part("response.output_text.delta", delta=chunk)
    final = response_object(await services.runs.get(run.id))
    for frame in events.closing(final, streamed):
        yield frame
    # Langflow's clients read up to this marker; OpenAI's SDK stops at it too.
    yield b"data: [DONE]\n\n"


@router.post("/responses", response_model=None, summary="Create Response")
@requires(Module.RUNS, Op.WRITE, cookie=False)
async def create_response(
    body: ResponsesRequest,
    services: ServicesDep,
    session: SessionDep,
    user: RunCaller,
    scope: ScopeDep,
) -> Any:
    """Run the flow named by `model` on `input`; the reply as a Response or its event stream."""
    if body.tools:
        raise InvalidInputError("Tools are not supported yet", field="tools")
    text = input_text(body.input)
    try:
        flow = await FlowRepository(session, scope).by_ref(body.model)
    except NotFoundError:
        raise NotFoundError(
            f"no flow {body.model!r}: model names the flow to run (its id or endpoint name)",
            field="model",
        ) from None
    session_id = str(uuid.uuid4())
    if body.previous_response_id:
        previous = await ResponseRepository(session, scope).find(body.previous_response_id)
        if previous is None:
            raise NotFoundError(
                f"previous response {body.previous_response_id} not found",
                field="previous_response_id",
            )
        session_id = previous.session_id or previous.id
    run = await start_run(
        services,
        flow=flow,
        user=user,
        trigger=TRIGGER,
        request={
            "input_value": text,
            "input_type": "chat",
            "output_type": "chat",
            "session_id": session_id,
        },
        meta={TRIGGER: {"model": body.model, "previous_response_id": body.previous_response_id}},
    )
    await session.commit()
    if body.stream:
        return StreamingResponse(
            _stream(services, run),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    if body.background:
        return response_object(run)
    return response_object(await wait_for_end(services, run.id))


@router.get("/responses/{response_id}", response_model=ResponseObject, summary="Get Response")
@requires(Module.RUNS, Op.READ, cookie=False)
async def get_response(
    response_id: str, session: SessionDep, user: RunCaller, scope: ScopeDep
) -> ResponseObject:
    """A response by id (e.g. one started with `background: true`), as it stands now."""
    rows = await ResponseRepository(session, scope).list(
        Run.id == response_id, Run.trigger == TRIGGER
    )
    if not rows:
        raise NotFoundError(f"response {response_id} not found", field="response_id")
    return response_object(rows[0])
