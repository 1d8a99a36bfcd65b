"""Flows as MCP tools: which flows a caller sees as tools, and a tool call as a run.

A tool is a flow of the caller's tenant with `mcp_enabled` that the caller may run (RUNS
WRITE, and the flow in the caller's row scope). Each call is an ordinary run (trigger
"mcp"): recorded, visible in every run view, cancellable, with a time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flowdeck.access.catalog import Module, Op, Privilege
from flowdeck.access.principal import Principal
from flowdeck.db.models import Flow, Run
from flowdeck.engine import Graph
from flowdeck.engine import events as ev
from flowdeck.errors import FlowdeckError, InvalidStateError
from flowdeck.runs.states import RunState
from flowdeck.services.caches import flow_cache
from flowdeck.services.container import Services
from flowdeck.services.execution import events_since, start_run, wait_for_end

RUN_FLOWS = Privilege(Module.RUNS, Op.WRITE).priv_id
TRIGGER = "mcp"
# Input components a tool call feeds (the executor's `input_kind`s).
INPUT_KINDS = frozenset({"chat", "text"})
_NOT_NAME = re.compile(r"[^a-z0-9_]+")
# What MCP clients accept as a tool name.
NAME_LIMIT = 64

Progress = Callable[[float, float | None, str | None], Awaitable[None]]


class ToolError(FlowdeckError):
    """A tool call the caller got wrong (unknown tool, unknown argument): an error result."""


@dataclass(frozen=True, slots=True)
class FlowTool:
    name: str
    description: str
    flow: Flow
    graph: Graph
    # Argument name -> id of the input component it feeds.
    inputs: dict[str, str]
    schema: dict[str, Any]


def tool_name(text: str) -> str:
    """A flow's name as a tool name: lower snake case, letters, digits and underscores."""
    name = _NOT_NAME.sub("_", text.strip().lower()).strip("_")
    return (name or "flow")[:NAME_LIMIT]


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f"_{n}"
        name = base[: NAME_LIMIT - len(suffix)] + suffix
    taken.add(name)
    return name


def input_schema(graph: Graph) -> tuple[dict[str, str], dict[str, Any]]:
    """One string argument per input component; a lone input is Langflow's `input_value`."""
    vertices = [graph.vertices[v] for v in graph.order]
    found = [v for v in vertices if v.component.input_kind in INPUT_KINDS]
    inputs: dict[str, str] = {}
    props: dict[str, Any] = {}
    taken: set[str] = set()
    for vertex in found:
        label = vertex.display_name or vertex.id
        arg = "input_value" if len(found) == 1 else _unique(tool_name(label), taken)
        inputs[arg] = vertex.id
        props[arg] = {"type": "string", "description": f"Text for {label} ({vertex.id})"}
    schema = {
        "type": "object",
        "properties": props,
        "required": sorted(props),
        "additionalProperties": False,
    }
    return inputs, schema


async def _named(
    services: Services, principal: Principal, project_id: str | None
) -> list[tuple[str, Flow]]:
    """The caller's tool flows with their tool names, unique in name order.

    Every flow takes its name whether or not it compiles, so a flow that breaks renames no
    other tool; only ids and fingerprints are read per call (a flow is read again when it
    changed). None without the privilege to run flows.
    """
    if not principal.can(RUN_FLOWS):
        return []
    taken: set[str] = set()
    return [
        (_unique(tool_name(flow.action_name or flow.name), taken), flow)
        for flow in await flow_cache(services).tools(principal.scope, project_id)
    ]


async def _tool(services: Services, name: str, flow: Flow) -> FlowTool | None:
    """A flow as a tool; None for a flow that does not compile (it cannot be called)."""
    try:
        graph = await services.graphs.for_flow(flow)
    except FlowdeckError:
        return None
    inputs, schema = input_schema(graph)
    return FlowTool(
        name=name,
        description=flow.action_description or flow.description or flow.name,
        flow=flow,
        graph=graph,
        inputs=inputs,
        schema=schema,
    )


async def list_tools(
    services: Services, principal: Principal, project_id: str | None = None
) -> list[FlowTool]:
    """The caller's tools, in name order."""
    tools = [
        await _tool(services, name, flow)
        for name, flow in await _named(services, principal, project_id)
    ]
    return [tool for tool in tools if tool is not None]


async def find_tool(
    services: Services, principal: Principal, name: str, project_id: str | None = None
) -> FlowTool:
    """The tool a call names; only its own flow is compiled, however many the caller has."""
    for taken, flow in await _named(services, principal, project_id):
        if taken == name:
            tool = await _tool(services, name, flow)
            if tool is not None:
                return tool
            break
    raise ToolError(f"no tool named {name!r}", field="name")


def tool_request(
    tool: FlowTool, arguments: Mapping[str, Any] | None, timeout: float | None
) -> dict[str, Any]:
    """The run request of a call: every advertised argument reaches its input component."""
    args = dict(arguments or {})
    unknown = sorted(set(args) - set(tool.inputs))
    if unknown:
        raise ToolError(f"{tool.name} takes no argument {unknown[0]!r}", field=unknown[0])
    per_component: dict[str, dict[str, Any]] = {}
    for arg, vid in tool.inputs.items():
        value = args.get(arg)
        if value is not None:
            text = value if isinstance(value, str) else str(value)
            per_component[vid] = {"input_value": text}
    return {
        "input_value": None,
        "input_type": "any",
        "inputs": per_component,
        "output_type": "any",
        "run_timeout": timeout,
    }


def output_text(outputs: Mapping[str, Any] | None) -> str:
    """A finished run's outputs as one text: each output component's messages, in order."""
    texts: list[str] = []
    for block in (outputs or {}).get("outputs") or []:
        for result in block.get("outputs") or []:
            for out in (result.get("outputs") or {}).values():
                message = out.get("message") if isinstance(out, dict) else out
                if message is not None:
                    texts.append(message if isinstance(message, str) else _json(message))
    return "\n\n".join(texts)


def _json(value: Any) -> str:
    import orjson

    return orjson.dumps(value, default=str).decode()


@dataclass(slots=True)
class CallOutcome:
    text: str
    is_error: bool
    run: Run


async def call_tool(
    services: Services,
    principal: Principal,
    tool: FlowTool,
    arguments: Mapping[str, Any] | None,
    *,
    progress: Progress | None = None,
    on_start: Callable[[Run], Awaitable[None]] | None = None,
) -> CallOutcome:
    """Run the tool's flow to its end; cancelling this call cancels the run."""
    if not principal.can(RUN_FLOWS):
        raise ToolError("running flows needs the WRITE privilege on runs", field="name")
    # The tighter of the MCP limit and the server's run limit (0 means none).
    limits = [t for t in (services.settings.mcp_call_timeout, services.settings.run_timeout) if t]
    limit = min(limits) if limits else None
    request = tool_request(tool, arguments, limit)
    graph = tool.graph
    run = await start_run(
        services, flow=tool.flow, user=principal.user, trigger=TRIGGER, request=request, graph=graph
    )
    if on_start is not None:
        await on_start(run)
    watcher = (
        asyncio.create_task(_report(services, run, len(graph.vertices), progress))
        if progress is not None
        else None
    )
    try:
        # The engine enforces the limit; the wait's own bound only covers a lost worker.
        bound = limit + 5.0 if limit else None
        final = await asyncio.wait_for(wait_for_end(services, run.id, run), bound)
    except (asyncio.CancelledError, TimeoutError):
        await _cancel_quietly(services, run.id, "the MCP call was cancelled or timed out")
        raise
    finally:
        if watcher is not None:
            watcher.cancel()
    if final.state == RunState.COMPLETED:
        return CallOutcome(output_text(final.outputs), False, final)
    return CallOutcome(f"run {final.id} {final.state}: {final.error or ''}".strip(), True, final)


async def _cancel_quietly(services: Services, run_id: str, reason: str) -> None:
    with contextlib.suppress(InvalidStateError):  # it ended meanwhile
        await asyncio.shield(services.runs.cancel(run_id, reason))


async def cancel_call(services: Services, principal: Principal, run_id: str) -> None:
    """Cancel the run of a tool call the caller started (the client's cancel notification)."""
    run = await services.runs.get(run_id)
    if run.user_id == principal.user.id and not RunState(run.state).terminal:
        await _cancel_quietly(services, run_id, "Cancelled by the MCP client")


async def _report(services: Services, run: Run, total: int, progress: Progress) -> None:
    done = 0
    async for _, name, data in events_since(services, run, 0):
        if name == ev.END_VERTEX:
            done += 1
            step = data.get("id") if isinstance(data, dict) else None
            await progress(float(done), float(total), f"step {step or done} done")
