"""The flow engine: read a flow, validate it, run it, and stream what happens."""

from flowdeck.engine.context import RunControl, VertexContext
from flowdeck.engine.core import Engine, FlowResolver
from flowdeck.engine.events import EventSink, ListSink, NullSink
from flowdeck.engine.flowfile import FlowSpec, load_flow_file, parse_flow
from flowdeck.engine.graph import Graph
from flowdeck.engine.plan import RunRequest
from flowdeck.engine.results import RunResult, RunStatus, VertexResult, VertexState

__all__ = [
    "Engine",
    "EventSink",
    "FlowResolver",
    "FlowSpec",
    "Graph",
    "ListSink",
    "NullSink",
    "RunControl",
    "RunRequest",
    "RunResult",
    "RunStatus",
    "VertexContext",
    "VertexResult",
    "VertexState",
    "load_flow_file",
    "parse_flow",
]
