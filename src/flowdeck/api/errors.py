"""Domain errors and unexpected failures, turned into JSON responses in one place."""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowdeck import errors as e
from flowdeck.api import json_input
from flowdeck.api.responses import JSON
from flowdeck.db import integrity

log = logging.getLogger("flowdeck.api")

# The id of the request being served, for answers built far from the request object.
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")

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
    e.UnprocessableError: 422,
}


def status_for(exc: e.FlowdeckError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def domain_response(request: Request, exc: e.FlowdeckError) -> JSON:
    status = status_for(exc)
    body: dict[str, Any] = {"detail": exc.message, **exc.to_dict()}
    body["request_id"] = request_id(request)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, e.TooManyAttemptsError):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSON(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the exception handlers and the request-id middleware."""

    @app.exception_handler(e.FlowdeckError)
    async def _domain(request: Request, exc: e.FlowdeckError) -> JSON:
        return domain_response(request, exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSON:
        return domain_response(request, integrity.translate(exc))

    @app.exception_handler(DBAPIError)
    async def _data(request: Request, exc: DBAPIError) -> JSON:
        error = integrity.translate_data(exc)
        if error is None:
            raise exc  # not the request's fault: answered as an unexpected error
        return domain_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSON:
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
            for err in exc.errors()
        ]
        # A body that is not JSON at all: FastAPI's `loc` holds the position, not a field.
        malformed = any(err["type"] == "json_invalid" for err in errors)
        names = [
            "body"
            if err["type"] == "json_invalid"
            else ".".join(str(p) for p in err["loc"][1:]) or "body"
            for err in errors
        ]
        body: dict[str, Any] = {
            "detail": errors,
            "code": "invalid_json" if malformed else "invalid_request",
            "message": f"invalid request: {', '.join(names)}",
            "request_id": request_id(request),
        }
        if names:
            body["field"] = names[0]
        return JSON(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSON:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request.scope))}
        body = {
            "detail": exc.detail,
            "code": HTTP_CODES.get(exc.status_code, "http_error"),
            "message": str(exc.detail),
            "request_id": request_id(request),
        }
        return JSON(body, status_code=exc.status_code, headers=headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# The `code` of errors the router and the HTTP layer raise, not a domain error.
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route serves at this path.

    The router answers 405 with the methods of the first route whose path matched, but a
    path is served by one route per method, so that `Allow` would list one of them only.
    """
    found = []
    for method in METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(dict(probe))[0] == Match.FULL for route in app.router.routes):
            found.append(method)
    return found


class RequestContext:
    """Pure ASGI middleware: a request id on every request and response; a body size cap;
    strict JSON bodies; and the answer to an unexpected error.

    Unexpected errors are answered here rather than by an `Exception` handler: Starlette's
    ServerErrorMiddleware re-raises after answering, and the server then drops the client's
    keep-alive connection, so the next request on it would fail too.
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id") or os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = rid
        token = REQUEST_ID.set(rid)
        try:
            await self._serve(scope, receive, send, rid)
        finally:
            REQUEST_ID.reset(token)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            await _too_large(send, rid, self.max_body)
            return
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            if json_input.is_json(_header(scope, b"content-type")):
                # Read whole before the route runs: JSON is parsed whole anyway, and a body
                # sent without a Content-Length is capped the same way as one with it.
                body = await _read_body(receive, self.max_body)
                json_input.check(body)
                receive = _replay(body, receive)
            else:
                receive = _limited(receive, self.max_body)
            await self.app(scope, receive, send_with_id)
        except _TooLarge:
            if started:
                raise
            await _too_large(send, rid, self.max_body)
        except json_input.BadJson as exc:
            await _answer(send, rid, 422, _body_error(exc.message))
        except Exception:
            if started:  # the answer is half sent: only closing the connection tells the client
                raise
            log.exception(
                "unexpected error (request %s) on %s %s", rid, scope["method"], scope["path"]
            )
            failure = {
                "detail": "Internal server error",
                "code": "internal_error",
                "message": "Internal server error",
            }
            await _answer(send, rid, 500, failure)


class _TooLarge(StarletteHTTPException):
    """The body went over the cap while being read (an HTTPException, so FastAPI passes it on
    from its body parsing instead of turning it into a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the client's own channel (for disconnects)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _limited(receive: Receive, limit: int) -> Receive:
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge(limit)
        return message

    return limited


def _body_error(problem: str) -> dict[str, Any]:
    """FastAPI's shape for a body it cannot parse, naming the problem."""
    return {
        "detail": [{"loc": ["body"], "msg": problem, "type": "json_invalid"}],
        "code": "invalid_json",
        "message": f"invalid request body: {problem}",
        "field": "body",
    }


async def _answer(send: Send, rid: str, status: int, content: dict[str, Any]) -> None:
    response = JSON({**content, "request_id": rid}, status_code=status)
    headers = [*response.raw_headers, (b"x-request-id", rid.encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _too_large(send: Send, rid: str, limit: int) -> None:
    message = f"request body exceeds {limit} bytes"
    body = {"detail": message, "code": "body_too_large", "message": message, "field": "body"}
    await _answer(send, rid, 413, body)
