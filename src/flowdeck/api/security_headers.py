"""Browser-facing protections on every answer: security headers, and CORS when configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No CSP restricting scripts: the web console at `/` runs same-origin scripts, and /docs
# loads Swagger UI's. `frame-ancestors` (with X-Frame-Options for older browsers) stops
# clickjacking; `no-referrer` keeps URLs that carry an API key (`?x-api-key=`) out of
# Referer headers sent to other sites.
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)
# Headers a browser script on an allowed origin may read.
EXPOSED = ["X-Request-Id", "X-Flowdeck-Cursor", "Content-Disposition"]


class SecurityHeaders:
    """Pure ASGI middleware adding HEADERS to every HTTP answer, errors and streams alike.

    A route's own Content-Security-Policy is kept beside ours: browsers enforce both.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only an HTTP answer has a `http.response.start`: other scopes pass unchanged.
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SecuredApp(FastAPI):
    """FastAPI with SecurityHeaders around the whole stack.

    Outside Starlette's ServerErrorMiddleware, which sends the 500 of an unexpected error
    past every middleware added with `add_middleware`.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def install_cors(app: FastAPI, cors_origins: list[str]) -> None:
    """CORS for the configured origins; with none, no CORS answers (browsers refuse).

    Cookies are allowed cross-origin only for listed origins, never with `*`.
    """
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_credentials="*" not in cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=EXPOSED,
        )
