"""Helpers for component tests: build native flows, run them, read results, serve HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from flowdeck.engine import Engine, Graph, ListSink, RunControl, RunRequest, RunResult
from flowdeck.engine.results import VertexState

Node = tuple[str, str, dict[str, Any]]


def flow(nodes: Sequence[Node], edges: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """A native flow document from (id, type, params) nodes and ("a.out", "b.field") edges."""
    return {
        "nodes": [{"id": i, "type": t, "params": p} for i, t, p in nodes],
        "edges": [{"from": a, "to": b} for a, b in edges],
    }


@dataclass
class Ran:
    """One finished run, with what is needed to check it."""

    graph: Graph
    result: RunResult
    sink: ListSink

    def out(self, vertex_id: str, output: str) -> Any:
        vertex = self.result.vertices[vertex_id]
        assert vertex.state is VertexState.COMPLETED, (vertex_id, vertex.state, vertex.error)
        return vertex.outputs[output]

    def text(self, vertex_id: str, output: str | None = None) -> str:
        vertex = self.result.vertices[vertex_id]
        assert vertex.state is VertexState.COMPLETED, (vertex_id, vertex.state, vertex.error)
        if output is None:
            return vertex.text()
        value = vertex.outputs[output]
        return value.text if hasattr(value, "text") else str(value)

    def state(self, vertex_id: str) -> VertexState:
        return self.result.vertices[vertex_id].state

    def end_vertex(self, vertex_id: str) -> dict[str, Any]:
        """The `build_data` of the end_vertex event for one vertex."""
        found: list[dict[str, Any]] = [
            e["build_data"]
            for e in self.sink.of("end_vertex")
            if e["build_data"]["id"] == vertex_id
        ]
        assert len(found) == 1, f"expected one end_vertex for {vertex_id}, got {len(found)}"
        return found[0]


async def run(
    engine: Engine,
    doc: Mapping[str, Any],
    request: RunRequest | None = None,
    *,
    tweaks: Mapping[str, Any] | None = None,
    control: RunControl | None = None,
    sink: Any = None,
) -> Ran:
    graph = engine.compile(doc, tweaks)
    list_sink = ListSink()
    result = await engine.run(
        graph, request or RunRequest(), sink=sink or list_sink, control=control
    )
    return Ran(graph, result, list_sink)


@contextmanager
def serve(app: Any, lifespan: str = "off") -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free 127.0.0.1 port in a thread; yield its URL."""
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets whose protocol says
    # TCP, and without it every answer on a kept-alive connection waited 40 ms (Nagle's
    # algorithm against the client's delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,
        loop="asyncio",
        http="h11",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
