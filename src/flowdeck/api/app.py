"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from flowdeck import __version__, heap, observability
from flowdeck.api import errors, openapi, security_headers
from flowdeck.api.responses import JSON
from flowdeck.services.container import Services
from flowdeck.settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """A FastAPI app serving the whole API over one set of services."""
    settings = settings or load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    services = Services.build(settings)
    services.prepare()  # start-up work in a thread, beside the route building below
    # Imported here, after `prepare`: building every route is most of the start-up time.
    from flowdeck.api.routers import ROUTERS

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from flowdeck.api import mcp

        await services.start()
        heap.settle()  # `flowdeck serve` held collection off for its start-up
        try:
            async with mcp.serving(app):
                yield
        finally:
            await services.stop()

    app = security_headers.SecuredApp(
        title="flowdeck",
        version=__version__,
        description="A self-hosted flow server: build, run, watch and control flows.",
        default_response_class=JSON,
        lifespan=lifespan,
        # /docs and /redoc are served from vendored assets (flowdeck.api.docs), not a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app)
    app.add_middleware(errors.RequestContext, max_body=settings.max_body_bytes)
    observability.install(app)  # log buffer, metrics
    security_headers.install_cors(app, settings.cors_origins)  # outermost: preflights
    return app
