"""The compiled graph: vertices bound to components, checked, and put in dependency order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdeck.engine.components.base import Component, Input
from flowdeck.engine.components.registry import ComponentRegistry
from flowdeck.engine.flowfile import FlowSpec, NodeSpec
from flowdeck.engine.types import compatible
from flowdeck.errors import FlowValidationError, GraphIssue

# The input field of a loop component that its body feeds back into.
LOOP_FEEDBACK_FIELD = "item"


@dataclass(slots=True, eq=False)
class Edge:
    source: str
    source_output: str
    target: str
    target_field: str
    # True for the edge that closes a loop component's cycle.
    feedback: bool = False


@dataclass(slots=True, eq=False)
class Vertex:
    id: str
    type_name: str
    component: Component
    display_name: str
    params: dict[str, Any]
    in_edges: list[Edge] = field(default_factory=list)
    out_edges: list[Edge] = field(default_factory=list)
    # Input fields fed by at least one (non-feedback) edge.
    edge_fields: tuple[str, ...] = ()
    # This node's inputs: the component's declared ones plus any it derives from its params.
    inputs: Mapping[str, Input] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.inputs:
            self.inputs = self.component.inputs_for(self.params)

    def input(self, name: str) -> Input | None:
        return self.inputs.get(name)

    @property
    def successors(self) -> list[str]:
        return list(dict.fromkeys(e.target for e in self.out_edges if not e.feedback))

    @property
    def predecessors(self) -> list[str]:
        return list(dict.fromkeys(e.source for e in self.in_edges if not e.feedback))


@dataclass(slots=True, eq=False)
class Graph:
    """A validated flow, ready to run any number of times concurrently (it is never mutated)."""

    vertices: dict[str, Vertex]
    edges: list[Edge]
    order: list[str]
    layers: list[list[str]]
    # loop vertex id -> the vertices of its body, in dependency order
    loop_bodies: dict[str, list[str]]
    name: str = ""
    # The file the flow was read from, if any (sub-flow paths resolve against it).
    source: Path | None = None

    def ancestors(self, vertex_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [vertex_id]
        while stack:
            for pred in self.vertices[stack.pop()].predecessors:
                if pred not in seen:
                    seen.add(pred)
                    stack.append(pred)
        return seen

    def descendants(self, vertex_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [vertex_id]
        while stack:
            for succ in self.vertices[stack.pop()].successors:
                if succ not in seen:
                    seen.add(succ)
                    stack.append(succ)
        return seen

    def find(self, key: str) -> Vertex | None:
        """A vertex by id, or else by display name (how tweaks may address components)."""
        vertex = self.vertices.get(key)
        if vertex is not None:
            return vertex
        for v in self.vertices.values():
            if v.display_name == key:
                return v
        return None


def compile_graph(
    spec: FlowSpec,
    registry: ComponentRegistry,
    tweaks: Mapping[str, Any] | None = None,
) -> Graph:
    """Bind a flow spec to components and check it; raises FlowValidationError with every issue."""
    issues: list[GraphIssue] = []
    vertices: dict[str, Vertex] = {}
    for node in spec.nodes:
        vertex = _bind_node(node, registry, issues, vertices)
        if vertex is not None:
            vertices[vertex.id] = vertex
    if tweaks:
        _apply_tweaks(vertices, tweaks, issues)
    edges = _bind_edges(spec, vertices, issues)
    _check_required(vertices, issues)
    order, layers = _toposort(vertices, issues)
    if issues:
        raise FlowValidationError(issues)
    for v in vertices.values():
        # A tuple, not a set: it is only iterated, and a set costs 216 bytes per vertex.
        v.edge_fields = tuple(dict.fromkeys(e.target_field for e in v.in_edges if not e.feedback))
    bodies = {
        v.id: _loop_body(v, vertices, order) for v in vertices.values() if v.component.allows_loop
    }
    return Graph(vertices, edges, order, layers, bodies, spec.name, spec.source)


def _bind_node(
    node: NodeSpec,
    registry: ComponentRegistry,
    issues: list[GraphIssue],
    seen: Mapping[str, Vertex],
) -> Vertex | None:
    if node.id in seen:
        issues.append(GraphIssue(node.id, None, "duplicate node id"))
        return None
    component = registry.get(node.type)
    if component is None:
        issues.append(GraphIssue(node.id, None, f"unknown component type {node.type!r}"))
        return None
    inputs = component.inputs_for(node.params)
    params: dict[str, Any] = {}
    for key, value in node.params.items():
        if key in inputs:
            params[key] = value
        elif node.strict:
            issues.append(GraphIssue(node.id, key, f"unknown field for {component.type_name}"))
    display = node.display_name or component.display_name
    return Vertex(node.id, component.type_name, component, display, params, inputs=inputs)


def _apply_tweaks(
    vertices: Mapping[str, Vertex], tweaks: Mapping[str, Any], issues: list[GraphIssue]
) -> None:
    by_display = {v.display_name: v for v in vertices.values()}
    for key, values in tweaks.items():
        vertex = vertices.get(key) or by_display.get(key)
        if vertex is None:
            issues.append(GraphIssue(key, None, "tweak names no component (by id or display name)"))
            continue
        if not isinstance(values, Mapping):
            issues.append(GraphIssue(vertex.id, None, "a tweak must be an object of field values"))
            continue
        # A tweak may change the fields a node derives its inputs from (a prompt's template).
        vertex.inputs = vertex.component.inputs_for({**vertex.params, **values})
        for fld, value in values.items():
            if vertex.input(fld) is None:
                issues.append(GraphIssue(vertex.id, fld, "tweak names an unknown field"))
            else:
                vertex.params[fld] = value


def _unbound(node_id: str, declared: Mapping[str, str]) -> str:
    # A node the document declares but that has no vertex failed to bind: its type is unknown.
    if node_id in declared:
        return f"a node of unknown type {declared[node_id]!r}"
    return "a missing node"


def _bind_edges(
    spec: FlowSpec, vertices: dict[str, Vertex], issues: list[GraphIssue]
) -> list[Edge]:
    edges: list[Edge] = []
    declared = {n.id: n.type for n in spec.nodes}
    for es in spec.edges:
        src, dst = vertices.get(es.source), vertices.get(es.target)
        if src is None:
            what = _unbound(es.source, declared)
            issues.append(GraphIssue(es.source, None, f"edge to {es.target} starts at {what}"))
        if dst is None:
            what = _unbound(es.target, declared)
            issues.append(GraphIssue(es.target, None, f"edge from {es.source} ends at {what}"))
        if src is None or dst is None:
            continue
        out = src.component.output(es.source_output)
        inp = dst.input(es.target_field)
        if out is None:
            issues.append(GraphIssue(src.id, es.source_output, "edge starts at an unknown output"))
        if inp is None:
            issues.append(
                GraphIssue(dst.id, es.target_field, "edge ends at an unknown input field")
            )
        if out is None or inp is None:
            continue
        if not compatible(out.type, inp.type):
            issues.append(
                GraphIssue(
                    dst.id,
                    es.target_field,
                    f"expects {inp.type.value} but {src.id}.{out.name} gives {out.type.value}",
                )
            )
            continue
        feedback = dst.component.allows_loop and es.target_field == LOOP_FEEDBACK_FIELD
        edge = Edge(src.id, out.name, dst.id, inp.name, feedback)
        src.out_edges.append(edge)
        dst.in_edges.append(edge)
        edges.append(edge)
    return edges


def _check_required(vertices: Mapping[str, Vertex], issues: list[GraphIssue]) -> None:
    for v in vertices.values():
        fed = {e.target_field for e in v.in_edges}
        for inp in v.inputs.values():
            if not inp.required or inp.name in fed:
                continue
            value = v.params.get(inp.name, inp.default)
            if value is None or value == "" or value == []:
                issues.append(GraphIssue(v.id, inp.name, "required input has no value and no edge"))


def _toposort(
    vertices: Mapping[str, Vertex], issues: list[GraphIssue]
) -> tuple[list[str], list[list[str]]]:
    indegree = {vid: len(v.predecessors) for vid, v in vertices.items()}
    layer = [vid for vid, n in indegree.items() if n == 0]
    order: list[str] = []
    layers: list[list[str]] = []
    while layer:
        layers.append(layer)
        order.extend(layer)
        nxt: list[str] = []
        for vid in layer:
            for succ in vertices[vid].successors:
                indegree[succ] -= 1
                if indegree[succ] == 0:
                    nxt.append(succ)
        layer = nxt
    if len(order) < len(vertices):
        for vid, n in indegree.items():
            if n > 0:
                issues.append(
                    GraphIssue(vid, None, "is on a cycle; only loop components may close one")
                )
    return order, layers


def _loop_body(loop: Vertex, vertices: Mapping[str, Vertex], order: list[str]) -> list[str]:
    """The vertices that run once per item: everything fed by the loop's `item` output."""
    body: set[str] = set()
    stack = [e.target for e in loop.out_edges if e.source_output == LOOP_FEEDBACK_FIELD]
    while stack:
        vid = stack.pop()
        if vid in body or vid == loop.id:
            continue
        body.add(vid)
        stack.extend(e.target for e in vertices[vid].out_edges if not e.feedback)
    return [vid for vid in order if vid in body]
