"""Observability: recent log lines in memory and Prometheus metrics, installed on the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flowdeck.observability import logbuffer, metrics

if TYPE_CHECKING:
    from fastapi import FastAPI

    from flowdeck.runs.bus import EventBus


def install(app: FastAPI) -> None:
    """Keep the "flowdeck" logs in memory, count bus events, and time every HTTP request."""
    logbuffer.install()
    services = app.state.services
    # Runs publish through the run service's bus: wrap it there and in the container alike.
    bus = cast("EventBus", metrics.CountingBus(services.bus))
    services.bus = services.runs.bus = bus
    app.add_middleware(metrics.HttpMetrics)
