"""Prometheus metrics of this server process, at `/metrics`."""

from __future__ import annotations

from fastapi import Response

from flowdeck.access.declare import public
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ServicesDep
from flowdeck.observability import metrics

router = guarded_router(tags=["Metrics"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
@public
async def prometheus_metrics(services: ServicesDep) -> Response:
    """The Prometheus text exposition; run gauges are read from the worker pool right now."""
    queue = services.queue
    # Other deployment shapes may hand runs to a queue that does not count them here.
    busy = int(getattr(queue, "busy", 0) or 0)
    depth = int(getattr(queue, "depth", 0) or 0)
    return Response(metrics.render(busy, depth), media_type=metrics.CONTENT_TYPE)
