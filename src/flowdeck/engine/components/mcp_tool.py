"""A flow step that calls one tool of an MCP server registered in the run's tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowdeck.engine.components._values import number, text_of
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.mcp_client import McpUnavailableError, call_tool
from flowdeck.engine.types import DataType, Message
from flowdeck.errors import CustomCodeDisabledError

DEFAULT_TIMEOUT = 60.0


class MCPTool(Component):
    type_name = "MCPTool"
    # Langflow's MCP component; its `mcp_server` and `tool` fields map onto these.
    aliases = ("MCPTools",)
    display_name = "MCP Tool"
    description = "Call a tool of a registered MCP server (stdio or HTTP) with arguments."
    category = "tools"
    inputs = (
        Input("server", DataType.TEXT, required=True, display_name="MCP Server"),
        Input("tool", DataType.TEXT, required=True, display_name="Tool"),
        Input(
            "arguments",
            DataType.DATA,
            display_name="Arguments",
            info="The tool's arguments, an object (or its JSON text).",
        ),
        Input(
            "input_value",
            DataType.ANY,
            default="",
            display_name="Input",
            info="Passed as the argument `input_field` names, when that is set.",
        ),
        Input("input_field", DataType.TEXT, default="", advanced=True, display_name="Input Field"),
        Input("timeout", DataType.NUMBER, default=DEFAULT_TIMEOUT, advanced=True, info="Seconds."),
        Input("mcp_server", DataType.TEXT, advanced=True, info="Langflow's name for server."),
    )
    outputs = (
        Output("message", DataType.MESSAGE, "Message"),
        Output("data", DataType.DATA, "Result"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        name = params["mcp_server"] or params["server"]
        if isinstance(name, dict):  # Langflow keeps {"name": ..., "config": ...} here
            name = name.get("name")
        if not name:
            raise ValueError("no MCP server named")
        arguments = params["arguments"] or {}
        if not isinstance(arguments, dict):
            raise ValueError("arguments must be an object of the tool's parameters")
        arguments = dict(arguments)
        if params["input_field"]:
            arguments[str(params["input_field"])] = text_of(params["input_value"])
        limit = number(params["timeout"], DEFAULT_TIMEOUT, "timeout")
        registries, tenant = ctx.registries("MCP server")
        endpoint = await registries.mcp_server(tenant, str(name))
        if endpoint.mcp_type == "stdio" and not ctx.allow_custom_code:
            raise CustomCodeDisabledError(
                f"MCP server {name!r} runs a command on this host: "
                "set FLOWDECK_ALLOW_CUSTOM_CODE to call stdio servers from flows"
            )
        try:
            result = await call_tool(endpoint, ctx.network, str(params["tool"]), arguments, limit)
        except McpUnavailableError as exc:
            raise ValueError(exc.message) from None
        if result.is_error:
            raise ValueError(f"tool {params['tool']!r} of {name!r} failed: {result.text}")
        ctx.log(f"called {params['tool']!r} of MCP server {name!r}")
        data = {
            "server": name,
            "tool": params["tool"],
            "text": result.text,
            "content": result.content,
            "structured_content": result.structured,
        }
        return {"message": Message(text=result.text, session_id=ctx.session_id), "data": data}
