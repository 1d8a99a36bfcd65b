"""Langflow's component catalogue: every component type, grouped by category (`/api/v1/all`)."""

from __future__ import annotations

from fastapi import Request, Response

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ServicesDep
from flowdeck.api.paths import both
from flowdeck.services.component_types import component_types_encoded

router = guarded_router(prefix="/api/v1", tags=["Base"])


def accepts_gzip(request: Request) -> bool:
    return any(
        part.split(";")[0].strip() == "gzip"
        for part in request.headers.get("accept-encoding", "").split(",")
    )


@both(router, "GET", "/all", response_model=None)
@requires(Module.COMPONENTS, Op.READ)
async def get_all(request: Request, services: ServicesDep) -> Response:
    """Every component type in Langflow's node shape, `{category: {type: node}}`; gzip-encoded
    for clients that accept it (the body is computed and compressed once per process)."""
    plain, packed = component_types_encoded(services.engine.registry)
    headers = {"Vary": "Accept-Encoding"}
    if accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="application/json", headers=headers)
    return Response(plain, media_type="application/json", headers=headers)
