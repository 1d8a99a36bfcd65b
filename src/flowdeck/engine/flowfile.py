"""Reading flow documents: Langflow's JSON layout and flowdeck's compact native form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from flowdeck.errors import FlowFormatError

# Canvas-only node kinds that carry no component.
_CANVAS_ONLY = frozenset({"noteNode", "note"})


@dataclass(slots=True)
class NodeSpec:
    """One node as written in the document: its type and the field values it sets."""

    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    display_name: str = ""
    # Langflow templates describe every field of the original component; fields that the
    # built-in does not declare are dropped there, but are errors in the native form.
    strict: bool = True


@dataclass(slots=True)
class EdgeSpec:
    """One edge: output `source_output` of `source` feeds field `target_field` of `target`."""

    source: str
    source_output: str
    target: str
    target_field: str


@dataclass(slots=True)
class FlowSpec:
    """A flow as read from a document, before it is checked against the registry."""

    nodes: list[NodeSpec]
    edges: list[EdgeSpec]
    name: str = ""
    description: str = ""
    source: Path | None = None


def load_flow_file(path: str | Path) -> FlowSpec:
    """Read a flow from a `.json`, `.yaml` or `.yml` file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise FlowFormatError(f"cannot read flow file {str(p)!r}: {exc.strerror}") from exc
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml  # only YAML flows pay for the import

        try:
            doc = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise FlowFormatError(f"{p.name} is not valid YAML: {exc}") from exc
    else:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise FlowFormatError(f"{p.name} is not valid JSON: {exc}") from exc
    spec = parse_flow(doc)
    spec.source = p
    if not spec.name:
        spec.name = p.stem
    return spec


def parse_flow(doc: Any) -> FlowSpec:
    """Read a flow document: a graph, a flow record wrapping one in `data`, or native form."""
    if not isinstance(doc, Mapping):
        raise FlowFormatError("a flow must be a JSON object with 'nodes' and 'edges'")
    name = str(doc.get("name") or "")
    description = str(doc.get("description") or "")
    graph = doc
    if "nodes" not in doc and isinstance(doc.get("data"), Mapping):
        graph = doc["data"]
    nodes_raw = graph.get("nodes")
    edges_raw = graph.get("edges", [])
    if not isinstance(nodes_raw, list):
        raise FlowFormatError("the flow has no 'nodes' list")
    if not isinstance(edges_raw, list):
        raise FlowFormatError("'edges' must be a list")
    nodes = [n for n in (_parse_node(raw, i) for i, raw in enumerate(nodes_raw)) if n]
    edges = [_parse_edge(raw, i) for i, raw in enumerate(edges_raw)]
    return FlowSpec(nodes=nodes, edges=edges, name=name, description=description)


def _parse_node(raw: Any, index: int) -> NodeSpec | None:
    if not isinstance(raw, Mapping):
        raise FlowFormatError(f"nodes[{index}] is not an object")
    if raw.get("type") in _CANVAS_ONLY:
        return None
    data = raw.get("data")
    if isinstance(data, Mapping) and "type" in data:
        return _parse_langflow_node(raw, data, index)
    # Native form: {"id": ..., "type": ..., "params": {...}}
    node_id, type_name = raw.get("id"), raw.get("type")
    if not isinstance(node_id, str) or not node_id:
        raise FlowFormatError(f"nodes[{index}] has no 'id'")
    if not isinstance(type_name, str) or not type_name:
        raise FlowFormatError(f"node {node_id!r} has no 'type'")
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise FlowFormatError(f"node {node_id!r}: 'params' must be an object")
    return NodeSpec(node_id, type_name, dict(params), str(raw.get("display_name") or ""))


def _parse_langflow_node(raw: Mapping[str, Any], data: Mapping[str, Any], index: int) -> NodeSpec:
    node_id = data.get("id") or raw.get("id")
    if not isinstance(node_id, str) or not node_id:
        raise FlowFormatError(f"nodes[{index}] has no 'data.id'")
    type_name = data["type"]
    if not isinstance(type_name, str) or not type_name:
        raise FlowFormatError(f"node {node_id!r} has no 'data.type'")
    node = data.get("node")
    node = node if isinstance(node, Mapping) else {}
    template = node.get("template") or {}
    params: dict[str, Any] = {}
    if isinstance(template, Mapping):
        for key, fld in template.items():
            if key.startswith("_"):
                continue
            if isinstance(fld, Mapping):
                if "value" in fld:
                    params[key] = fld["value"]
            else:
                params[key] = fld
    display = str(node.get("display_name") or "")
    return NodeSpec(node_id, type_name, params, display, strict=False)


def _parse_edge(raw: Any, index: int) -> EdgeSpec:
    if not isinstance(raw, Mapping):
        raise FlowFormatError(f"edges[{index}] is not an object")
    data = raw.get("data")
    if isinstance(data, Mapping) and "sourceHandle" in data and "targetHandle" in data:
        sh, th = data["sourceHandle"], data["targetHandle"]
        if not isinstance(sh, Mapping) or not isinstance(th, Mapping):
            raise FlowFormatError(f"edges[{index}]: handles must be objects")
        source = sh.get("id") or raw.get("source")
        target = th.get("id") or raw.get("target")
        output, fld = sh.get("name"), th.get("fieldName")
    elif "from" in raw and "to" in raw:
        source, _, output = str(raw["from"]).partition(".")
        target, _, fld = str(raw["to"]).partition(".")
    else:
        source, target = raw.get("source"), raw.get("target")
        output, fld = raw.get("source_output"), raw.get("target_field")
    if not source or not target or not output or not fld:
        raise FlowFormatError(
            f"edges[{index}] must name a source output and a target field "
            "(Langflow handles, 'from: node.output' / 'to: node.field', or source/target pairs)"
        )
    return EdgeSpec(str(source), str(output), str(target), str(fld))


def dump_native(spec: FlowSpec) -> dict[str, Any]:
    """The compact native form of a flow spec."""
    return {
        "name": spec.name,
        "nodes": [{"id": n.id, "type": n.type, "params": n.params} for n in spec.nodes],
        "edges": [
            {"from": f"{e.source}.{e.source_output}", "to": f"{e.target}.{e.target_field}"}
            for e in spec.edges
        ],
    }
