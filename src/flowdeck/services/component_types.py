"""The engine's component types in Langflow's node shape (`GET /api/v1/all`, starter nodes).

Langflow's clients and canvas read a component as a node: a `template` of fields (each with
its field type, the edge types it accepts and whether it is advanced), `outputs` with their
types, and `base_classes`. The shapes are derived from the registry's declarations once per
registry and kept: they change only with the code.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from typing import Any

import orjson

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.components.registry import ComponentRegistry
from flowdeck.engine.types import DataType
from flowdeck.services.flow_files import starter_flows

# Langflow's field types: what the canvas renders for a field of each port type.
_FIELD_TYPES = {
    DataType.MESSAGE: "str",
    DataType.TEXT: "str",
    DataType.DATA: "other",
    DataType.NUMBER: "float",
    DataType.BOOLEAN: "bool",
    DataType.LIST: "other",
    DataType.ANY: "other",
}
# The edge types a connectable field accepts, in Langflow's names.
_INPUT_TYPES = {
    DataType.MESSAGE: ["Message"],
    DataType.TEXT: ["Message"],
    DataType.DATA: ["Data"],
    DataType.NUMBER: [],
    DataType.BOOLEAN: [],
    DataType.LIST: ["Data"],
    DataType.ANY: ["Message", "Data"],
}
# Langflow's icon names per category (lucide icons, as its sidebar shows them).
_ICONS = {
    "inputs": "MessagesSquare",
    "outputs": "MessagesSquare",
    "prompts": "braces",
    "processing": "ListFilter",
    "logic": "GitBranch",
    "flow_control": "Timer",
    "data": "Database",
    "models": "BrainCircuit",
    "tools": "Hammer",
    "custom": "Code",
}


def template_field(inp: Input) -> dict[str, Any]:
    """One input as a Langflow template field."""
    kind = _FIELD_TYPES[inp.type]
    if inp.type is DataType.NUMBER and isinstance(inp.default, int):
        kind = "int"
    if inp.options:
        kind = "str"
    default = inp.default
    if default is None:
        default = False if inp.type is DataType.BOOLEAN else ([] if inp.is_list else "")
    return {
        "type": kind,
        "required": inp.required,
        "value": default,
        "name": inp.name,
        "display_name": inp.display_name or inp.name,
        "info": inp.info,
        "advanced": inp.advanced,
        "show": True,
        "options": list(inp.options),
        # A configuration-only field takes no edge.
        "input_types": [] if inp.advanced or inp.options else list(_INPUT_TYPES[inp.type]),
        "list": inp.is_list or inp.type is DataType.LIST,
        "placeholder": "",
        "dynamic": False,
        "_input_type": "DropdownInput" if inp.options else f"{inp.type.value}Input",
    }


def output_port(out: Output) -> dict[str, Any]:
    types = [out.type.value]
    return {
        "types": types,
        "selected": types[0],
        "name": out.name,
        "display_name": out.display_name or out.name,
        "method": out.name,
        "cache": True,
        "allows_loop": False,
    }


def langflow_node(cls: type[Component]) -> dict[str, Any]:
    """A component type as Langflow's `data.node`."""
    template: dict[str, Any] = {"_type": "Component"}
    template.update({i.name: template_field(i) for i in cls.inputs})
    outputs = [output_port(o) for o in cls.outputs]
    return {
        "template": template,
        "outputs": outputs,
        "base_classes": sorted({t for o in outputs for t in o["types"]}),
        "description": cls.description,
        "display_name": cls.display_name,
        "icon": _ICONS.get(cls.category, "Component"),
        "documentation": "",
        "custom_fields": {},
        "output_types": [],
        "field_order": [i.name for i in cls.inputs],
        "beta": False,
        "legacy": False,
        "frozen": False,
        "pinned": False,
        "metadata": {"category": cls.category, "aliases": list(cls.aliases)},
    }


@lru_cache(maxsize=4)
def component_types(registry: ComponentRegistry) -> dict[str, dict[str, Any]]:
    """Every registered type by category, then by type name (Langflow's `/all`)."""
    grouped: dict[str, dict[str, Any]] = {}
    for component in sorted(registry, key=lambda c: (c.category, c.type_name)):
        cls = type(component)
        grouped.setdefault(cls.category, {})[cls.type_name] = langflow_node(cls)
    return grouped


@lru_cache(maxsize=4)
def component_types_encoded(registry: ComponentRegistry) -> tuple[bytes, bytes]:
    """`component_types` as JSON, plain and gzip-compressed (computed once)."""
    body = orjson.dumps(component_types(registry))
    return body, gzip.compress(body, 6, mtime=0)


def node_for(registry: ComponentRegistry, type_name: str) -> dict[str, Any] | None:
    """The node shape of the type a name (or alias) means, if the registry has it."""
    component = registry.get(type_name)
    if component is None:
        return None
    cls = type(component)
    found: dict[str, Any] = component_types(registry)[cls.category][cls.type_name]
    return found


def full_node(registry: ComponentRegistry, node: dict[str, Any]) -> dict[str, Any]:
    """A Langflow canvas node with its type's whole `data.node`, the stored values kept.

    Shipped flows store only the fields they set; Langflow's canvas needs every field's
    description to draw the node.
    """
    data = node.get("data")
    if not isinstance(data, dict):
        return node
    base = node_for(registry, str(data.get("type", "")))
    if base is None:
        return node
    found = data.get("node")
    stored: dict[str, Any] = found if isinstance(found, dict) else {}
    merged: dict[str, Any] = orjson.loads(orjson.dumps(base))
    template = merged["template"]
    for name, field in (stored.get("template") or {}).items():
        if isinstance(field, dict) and isinstance(template.get(name), dict):
            template[name].update(field)
        else:
            template[name] = field
    merged.update({k: v for k, v in stored.items() if k != "template"})
    return {**node, "data": {**data, "node": merged}}


@lru_cache(maxsize=4)
def _starters(registry: ComponentRegistry) -> bytes:
    docs = starter_flows()
    for doc in docs:
        graph = doc.get("data") or {}
        graph["nodes"] = [full_node(registry, n) for n in graph.get("nodes") or []]
    return orjson.dumps(docs)


def starter_projects(registry: ComponentRegistry) -> list[dict[str, Any]]:
    """The shipped flows with full Langflow nodes (fresh copies, safe to change)."""
    docs: list[dict[str, Any]] = orjson.loads(_starters(registry))
    return docs
