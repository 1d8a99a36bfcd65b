"""The API docs at `/docs` (Swagger UI) and `/redoc`, with their assets served by flowdeck.

FastAPI's own pages load swagger-ui and redoc from a CDN and start them with an inline script;
these load the copies vendored under the console's files and start from a file, so the docs
work offline and under a content security policy without inline scripts.
"""

from __future__ import annotations

from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse

from flowdeck.access.declare import public
from flowdeck.access.guard import guarded_router
from flowdeck.api.console import PREFIX

router = guarded_router(include_in_schema=False)
VENDOR = PREFIX + "/vendor"


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>{head}</head><body>{body}</body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/docs")
@public
async def swagger_ui(request: Request) -> HTMLResponse:
    spec = escape(request.app.openapi_url or "/openapi.json")
    return _page(
        f"{request.app.title} - Swagger UI",
        f'<link rel="stylesheet" href="{VENDOR}/swagger-ui/swagger-ui.css">'
        f'<link rel="icon" href="{VENDOR}/swagger-ui/favicon-32x32.png">',
        f'<div id="swagger-ui" data-spec-url="{spec}"></div>'
        f'<script src="{VENDOR}/swagger-ui/swagger-ui-bundle.js"></script>'
        f'<script src="{PREFIX}/docs/swagger-init.js"></script>',
    )


@router.get("/redoc")
@public
async def redoc(request: Request) -> HTMLResponse:
    spec = escape(request.app.openapi_url or "/openapi.json")
    # <redoc spec-url> starts itself once the bundle has loaded.
    return _page(
        f"{request.app.title} - ReDoc",
        f'<link rel="icon" href="{PREFIX}/favicon.svg">',
        f'<redoc spec-url="{spec}"></redoc>'
        f'<script src="{VENDOR}/redoc/redoc.standalone.js"></script>',
    )
