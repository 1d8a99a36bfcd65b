"""Domain errors and unexpected failures, turned into JSON responses in one place."""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowdeck import errors as e
from flowdeck.api.responses import JSON

log = logging.getLogger("flowdeck.api")

STATUS: dict[type[e.FlowdeckError], int] = {
    e.InvalidInputError: 400,
    e.FlowFormatError: 400,
    e.AuthenticationError: 401,
    e.PermissionDeniedError: 403,
    e.CustomCodeDisabledError: 403,
    e.NotFoundError: 404,
    e.ConflictError: 409,
    e.InvalidStateError: 409,
    e.FlowValidationError: 422,
    e.WeakPasswordError: 422,
    e.TooManyAttemptsError: 429,
}


def status_for(exc: e.FlowdeckError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def install(app: FastAPI) -> None:
    """Register the exception handlers and the request-id middleware."""

    @app.exception_handler(e.FlowdeckError)
    async def _domain(request: Request, exc: e.FlowdeckError) -> JSON:
        status = status_for(exc)
        body: dict[str, Any] = {"detail": exc.message, **exc.to_dict()}
        body["request_id"] = request_id(request)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, e.TooManyAttemptsError):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSON(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSON:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
            for err in exc.errors()
        ]
        fields = ", ".join(".".join(str(p) for p in err["loc"][1:]) or "body" for err in errors)
        return JSON(
            {
                "detail": errors,
                "message": f"invalid request: {fields}",
                "request_id": request_id(request),
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSON:
        return JSON(
            {"detail": exc.detail, "request_id": request_id(request)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSON:
        rid = request_id(request)
        log.exception(
            "unexpected error (request %s) on %s %s", rid, request.method, request.url.path
        )
        return JSON(
            {"detail": "Internal server error", "code": "internal_error", "request_id": rid},
            status_code=500,
        )


class RequestContext:
    """Pure ASGI middleware: a request id on every request and response; a body size cap."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id") or os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = rid
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            await _too_large(send, rid, self.max_body)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise e.InvalidInputError(f"request body exceeds {self.max_body} bytes")
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        await self.app(scope, limited_receive, send_with_id)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _too_large(send: Send, rid: str, limit: int) -> None:
    import orjson

    body = orjson.dumps({"detail": f"request body exceeds {limit} bytes", "request_id": rid})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"x-request-id", rid.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
