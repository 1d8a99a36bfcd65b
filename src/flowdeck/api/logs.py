"""Recent server log lines (Langflow's log router): `/logs` and the live `/logs-stream`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import Query
from fastapi.responses import StreamingResponse

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.errors import InvalidInputError
from flowdeck.observability import logbuffer
from flowdeck.schemas.common import Count

router = guarded_router(tags=["Log"])

DEFAULT_LINES = 10  # what Langflow answers when no count is asked for
KEEPALIVE_SECONDS = 5.0


async def _follow(buffer: logbuffer.LogBuffer, after: int) -> AsyncIterator[bytes]:
    # Langflow's stream: one `{timestamp: message}` object per line, blank-line separated.
    async for lines in buffer.follow(after, KEEPALIVE_SECONDS):
        if not lines:
            yield b"keepalive\n\n"
            continue
        yield b"".join(orjson.dumps({str(ts): message}) + b"\n\n" for ts, message in lines)


@router.get("/logs-stream", summary="Stream Logs")
# LOGS is held by platform superusers only (access/catalog.py PLATFORM_ONLY): server logs
# span every tenant.
@requires(Module.LOGS, Op.READ)
async def stream_logs() -> StreamingResponse:
    """Log lines as they are written, from now on, until the client disconnects."""
    buffer = logbuffer.buffer()
    # From the last line logged before this call, even if the body starts a little later.
    return StreamingResponse(
        _follow(buffer, buffer.latest),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/logs", summary="Logs")
@requires(Module.LOGS, Op.READ)
async def logs(
    lines_before: Annotated[
        Count, Query(description="The number of logs before the timestamp or the last log")
    ] = 0,
    lines_after: Annotated[Count, Query(description="The number of logs after the timestamp")] = 0,
    timestamp: Annotated[Count, Query(description="The timestamp to start getting logs from")] = 0,
) -> dict[int, str]:
    """Recent log lines as `{timestamp_ms: line}`, around a timestamp or the latest ones."""
    buffer = logbuffer.buffer()
    if lines_before and lines_after:
        raise InvalidInputError(
            "Cannot request logs before and after the timestamp", field="lines_after"
        )
    if not timestamp:
        if lines_after:
            raise InvalidInputError(
                "Timestamp is required when requesting logs after the timestamp",
                field="timestamp",
            )
        return buffer.last(lines_before or DEFAULT_LINES)
    if lines_after:
        return buffer.after(timestamp, lines_after)
    return buffer.before(timestamp, lines_before or DEFAULT_LINES)
