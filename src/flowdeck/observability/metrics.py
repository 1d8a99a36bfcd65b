"""Prometheus metrics: HTTP requests, runs, the run queue and the event bus.

Everything here is cheap on the hot path: label children are looked up once and cached, and
the HTTP middleware labels by route template (bounded), never by raw path.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED = "unmatched"  # requests no route matched (404s): one label, whatever the path

HTTP_REQUESTS = Counter(
    "flowdeck_http_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ("method", "route", "status"),
)
HTTP_LATENCY = Histogram(
    "flowdeck_http_request_duration_seconds",
    "Time to answer an HTTP request (the whole body, for streamed responses).",
    ("method", "route"),
)
RUNS_STARTED = Counter(
    "flowdeck_runs_started_total", "Runs that began executing (each attempt).", ("trigger",)
)
RUNS_FINISHED = Counter(
    "flowdeck_runs_finished_total", "Runs that reached a final state.", ("trigger", "state")
)
RUNS_IN_FLIGHT = Gauge("flowdeck_runs_in_flight", "Runs executing in this process's workers.")
QUEUE_DEPTH = Gauge("flowdeck_run_queue_depth", "Runs waiting for a worker in this process.")
BUS_PUBLISHED = Counter(
    "flowdeck_event_bus_published_total", "Run events published on the event bus.", ("event",)
)

_http: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_bus: dict[str, Any] = {}
_finished: dict[tuple[str, str], Any] = {}


def run_transition(state: str, trigger: str, from_queued: bool) -> None:
    """Count a run state change: a start (queued -> running) or a finish (a final state)."""
    if state == "running":
        if from_queued:
            RUNS_STARTED.labels(trigger).inc()
    elif state in ("completed", "failed", "cancelled"):
        run_finished(state, trigger)


def run_finished(state: str, trigger: str) -> None:
    child = _finished.get((trigger, state))
    if child is None:
        child = _finished[(trigger, state)] = RUNS_FINISHED.labels(trigger, state)
    child.inc()


def event_published(event: str) -> None:
    child = _bus.get(event)
    if child is None:
        child = _bus[event] = BUS_PUBLISHED.labels(event)
    child.inc()


def render(in_flight: int, queued: int) -> bytes:
    """The exposition text; the gauges are read now, at scrape time."""
    RUNS_IN_FLIGHT.set(in_flight)
    QUEUE_DEPTH.set(queued)
    data: bytes = generate_latest()
    return data


def _observe(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _http.get(key)
    if children is None:
        children = _http[key] = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_LATENCY.labels(method, route),
        )
    children[0].inc()
    children[1].observe(seconds)


class HttpMetrics:
    """Pure ASGI middleware: counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The router puts the matched route in the scope (the same dict) on its way in.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            _observe(scope["method"], route, status, time.perf_counter() - started)


class CountingBus:
    """Wraps an event bus to count what is published; everything else goes straight through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        event_published(event)
        self._inner.publish(run_id, event, data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
