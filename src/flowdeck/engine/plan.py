"""What one run covers and what each of its steps starts from.

The executor asks this module which vertices a request selects (start and stop components),
the parameters each vertex begins with (its fields, then the request's input value and
per-component inputs), which loop drives each loop-body vertex, and a step's inputs resolved
to their declared types. All of it is pure: a graph and a request in, plain data out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowdeck.engine.types import coerce
from flowdeck.errors import InvalidInputError

if TYPE_CHECKING:
    from flowdeck.engine.graph import Graph, Vertex


@dataclass(slots=True)
class RunRequest:
    """What a caller asks of one run (Langflow's run parameters)."""

    input_value: str | None = None
    input_type: str = "chat"  # chat | text | any: which input components get input_value
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # component id -> fields
    session_id: str | None = None
    start_component_id: str | None = None
    stop_component_id: str | None = None
    run_timeout: float | None = None
    vertex_timeout: float | None = None
    # The tenant the run belongs to: registered models and MCP servers are looked up there.
    tenant_id: str | None = None


def select_members(graph: Graph, req: RunRequest) -> list[str]:
    """The vertices the run executes, in dependency order."""
    for key, name in (
        (req.start_component_id, "start_component_id"),
        (req.stop_component_id, "stop_component_id"),
    ):
        if key is not None and key not in graph.vertices:
            raise InvalidInputError(f"no component {key!r} in this flow", field=name)
    chosen: set[str] | None = None
    if req.stop_component_id:
        chosen = graph.ancestors(req.stop_component_id) | {req.stop_component_id}
    if req.start_component_id:
        down = graph.descendants(req.start_component_id) | {req.start_component_id}
        needed = set(down)
        for vid in down:
            needed |= graph.ancestors(vid)
        chosen = needed if chosen is None else chosen & needed
    if chosen is None:
        return list(graph.order)
    return [vid for vid in graph.order if vid in chosen]


def base_params(graph: Graph, req: RunRequest) -> dict[str, dict[str, Any]]:
    """Each vertex's parameters before its edges deliver: the graph's own are shared, not
    copied, unless the request overlays something on that vertex."""
    params = {vid: v.params for vid, v in graph.vertices.items()}
    overlays: dict[str, dict[str, Any]] = {}
    if req.input_value is not None:
        kinds = {"chat", "text"} if req.input_type == "any" else {req.input_type}
        for vid, v in graph.vertices.items():
            if v.component.input_kind in kinds:
                overlays[vid] = {"input_value": req.input_value}
    for vid, values in req.inputs.items():
        vertex = graph.find(vid)
        if vertex is None:
            raise InvalidInputError(f"inputs name no component {vid!r}", field="inputs")
        overlays.setdefault(vertex.id, {}).update(values)
    for vid, values in overlays.items():
        params[vid] = {**params[vid], **values}
    return params


def innermost_loops(graph: Graph) -> dict[str, str]:
    """Each loop-body vertex mapped to the innermost loop that drives it."""
    owner: dict[str, str] = {}
    for loop, body in sorted(graph.loop_bodies.items(), key=lambda kv: -len(kv[1])):
        for vid in body:
            owner[vid] = loop
    return owner


def resolve_inputs(vertex: Vertex, params: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults, check required fields, and convert each value to its declared type."""
    out: dict[str, Any] = {}
    for inp in vertex.inputs.values():
        value = params.get(inp.name, inp.default)
        if value is None or value == "":
            if inp.required:
                raise ValueError(f"required input {inp.name!r} has no value")
            out[inp.name] = inp.default if value is None else value
            continue
        try:
            if inp.is_list and isinstance(value, list):
                out[inp.name] = [coerce(v, inp.type) for v in value]
            else:
                out[inp.name] = coerce(value, inp.type)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"input {inp.name!r}: {exc}") from exc
    return out
