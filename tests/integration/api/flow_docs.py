"""Small flow graphs for the flow API tests."""

from __future__ import annotations

from typing import Any

import httpx

# A chat whose middle step waits for an answer (WaitForInput), in the native layout.
ASK = {
    "nodes": [
        {"id": "in", "type": "ChatInput"},
        {"id": "ask", "type": "WaitForInput", "params": {"prompt": "Go on?"}},
        {"id": "out", "type": "ChatOutput"},
    ],
    "edges": [
        {"from": "in.message", "to": "ask.input_value"},
        {"from": "ask.message", "to": "out.input_value"},
    ],
}


def node(node_id: str, type_name: str, **values: Any) -> dict[str, Any]:
    """A node in Langflow's layout, setting only the given template values."""
    template = {key: {"name": key, "value": value} for key, value in values.items()}
    return {
        "id": node_id,
        "type": "genericNode",
        "position": {"x": 0, "y": 0},
        "data": {"id": node_id, "type": type_name, "node": {"template": template}},
    }


def edge(source: str, output: str, target: str, field: str) -> dict[str, Any]:
    return {
        "source": source,
        "target": target,
        "data": {
            "sourceHandle": {"id": source, "name": output},
            "targetHandle": {"id": target, "fieldName": field},
        },
    }


def chat_graph(greeting: str = "Hello") -> dict[str, Any]:
    """Chat input joined to a fixed text, shown by a chat output."""
    return {
        "nodes": [
            node("in", "ChatInput"),
            node("join", "CombineText", text1=greeting, delimiter=", "),
            node("out", "ChatOutput"),
        ],
        "edges": [
            edge("in", "message", "join", "text2"),
            edge("join", "combined_text", "out", "input_value"),
        ],
    }


def flow(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "data": chat_graph(), **extra}


async def create(client: httpx.AsyncClient, name: str, **extra: Any) -> dict[str, Any]:
    """Create a flow through the API; fails the test unless it is 201."""
    resp = await client.post("/api/v1/flows/", json=flow(name, **extra))
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body
